"""Per-slot decision rules that read the simulator state: the authors' one-step label, the simulator
greedy oracle and least-loaded. Each returns actions [D] for the current slot of a one-copy simulator."""

from __future__ import annotations

import numpy as np

from offloadlab.scenarios.mec_queues.comllm import comllm_oracle
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import observe


def arriving(sim: QueueSim, b: int = 0) -> np.ndarray:
    """Devices with a task in the current slot of copy b, in device order."""
    return np.flatnonzero(sim.arr[b, sim.t] > 0)


def comllm_oracle_actions(sim: QueueSim) -> np.ndarray:
    """argmin of the authors' one-step cost on each arriving task's text state (copy 0)."""
    acts = np.zeros(sim.D, dtype=np.int64)
    queue = sim.server_backlog_mbit()[0].sum(axis=0)
    for d in arriving(sim):
        acts[d] = comllm_oracle(observe(sim, 0, d, queue))
    return acts


def greedy_delays(sim: QueueSim, decided: np.ndarray, d: int) -> np.ndarray:
    """[S + 1] delay of device d's task under each action, from exact copies of the state advanced with
    no further arrivals (later devices of this slot send nothing); a drop counts 2 D."""
    t, k = sim.t, sim.S + 1
    twin = sim.tile(k)
    twin.arr[:, t + 1 :] = 0.0
    twin.arr[:, t, d + 1 :] = 0.0
    acts = np.repeat(decided[None], k, axis=0)
    acts[:, d] = np.arange(k)
    twin.step(acts)
    idle = np.zeros((k, sim.D), dtype=np.int64)
    while np.isnan(twin.delay[:, t, d]).any() and not twin.done:
        twin.step(idle)
    return np.where(twin.dropped[:, t, d], 2.0 * sim.Dl, twin.delay[:, t, d])


def greedy_oracle_actions(sim: QueueSim) -> np.ndarray:
    """Simulator greedy oracle: devices in order, each taking the action of least own delay given the
    decisions already taken this slot (ties to the lowest id)."""
    acts = np.zeros(sim.D, dtype=np.int64)
    for d in arriving(sim):
        acts[d] = int(np.argmin(greedy_delays(sim, acts, d)))
    return acts


def least_loaded_actions(sim: QueueSim) -> np.ndarray:
    """[B, D] per copy: each arriving task (device order) goes to the server with the least queued work in
    slots (Mbit left / full capacity), counting tasks sent earlier in the same slot."""
    work = sim.server_backlog_mbit().sum(axis=1) + sim.upload_backlog_by_server()
    acts = np.zeros((sim.B, sim.D), dtype=np.int64)
    size = sim.arr[:, sim.t]
    rows = np.arange(sim.B)
    for d in range(sim.D):
        best = np.argmin(work / sim.cap_srv[None, :], axis=1)
        has = size[:, d] > 0
        acts[:, d] = np.where(has, best + 1, 0)
        work[rows[has], best[has]] += size[has, d]
    return acts
