"""Per-slot decision rules that read the simulator state: the authors' one-step label, the simulator
greedy oracle and least-loaded. The ``*_actions`` rules return actions [D] for the current slot of a
one-copy simulator; ``comllm_oracle_batch``, ``greedy_oracle_batch`` and ``least_loaded_actions`` decide
every copy of a batched one at once ([B, D]), as the look-ahead oracle's rollouts need."""

from __future__ import annotations

import numpy as np

from offloadlab.scenarios.mec_queues.comllm import comllm_oracle, edge_costs
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


def comllm_oracle_batch(sim: QueueSim) -> np.ndarray:
    """[B, D] the authors' one-step label of every arriving task of every copy, from the simulator's arrays
    (``comllm_oracle_actions`` reads the same numbers through the text state, rounded to 4 decimals)."""
    p, t = sim.p, sim.t
    size = sim.arr[:, t, :, None]  # [B, D, 1]
    local = np.maximum(sim.t_comp - t + 1, 0) + size[..., 0] / p.local_rate_mbit
    net_wait = np.maximum(sim.t_tran - t + 1, 0)[..., None]
    queue = sim.server_backlog_mbit().sum(axis=1)[:, None, :]  # [B, 1, S]
    ghz, density = np.asarray(p.server_ghz, dtype=float), p.density_gcycles_per_mbit
    edge = edge_costs(size, net_wait, ghz, sim.m[:, None, :], queue, p.slot_s, density, p.upload_mbit)
    acts = np.argmin(np.concatenate([local[..., None], edge], axis=2), axis=2)
    return np.where(size[..., 0] > 0, acts, 0)


def greedy_delays_batch(sim: QueueSim, decided: np.ndarray, d: int) -> np.ndarray:
    """[B, S + 1] delay of device d's task in each copy under each action (NaN where d has no task), from
    exact copies of the state advanced with no further arrivals (later devices of this slot send nothing);
    a drop counts 2 D. ``decided`` [B, D]: the actions already taken this slot."""
    t, k, B = sim.t, sim.S + 1, sim.B
    twin = sim.tile(k)
    twin.arr[:, t + 1 :] = 0.0
    twin.arr[:, t, d + 1 :] = 0.0
    acts = np.repeat(decided, k, axis=0)
    acts[:, d] = np.tile(np.arange(k), B)
    twin.step(acts)
    has = twin.arr[:, t, d] > 0
    idle = np.zeros((B * k, sim.D), dtype=np.int64)
    while (np.isnan(twin.delay[:, t, d]) & has).any() and not twin.done:
        twin.step(idle)
    delay = np.where(twin.dropped[:, t, d], 2.0 * sim.Dl, twin.delay[:, t, d])
    return np.where(has, delay, np.nan).reshape(B, k)


def greedy_delays(sim: QueueSim, decided: np.ndarray, d: int) -> np.ndarray:
    """[S + 1] delay of device d's task under each action in a one-copy simulator (``greedy_delays_batch``)."""
    return greedy_delays_batch(sim, decided[None], d)[0]


def greedy_oracle_batch(sim: QueueSim) -> np.ndarray:
    """[B, D] simulator greedy oracle in every copy: devices in order, each taking the action of least own
    delay given the decisions already taken this slot (ties to the lowest id)."""
    acts = np.zeros((sim.B, sim.D), dtype=np.int64)
    has = sim.arr[:, sim.t] > 0
    for d in np.flatnonzero(has.any(axis=0)):
        delays = greedy_delays_batch(sim, acts, int(d))
        acts[:, d] = np.where(has[:, d], np.argmin(np.nan_to_num(delays, nan=np.inf), axis=1), 0)
    return acts


def greedy_oracle_actions(sim: QueueSim) -> np.ndarray:
    """Simulator greedy oracle of a one-copy simulator (``greedy_oracle_batch``)."""
    return greedy_oracle_batch(sim)[0]


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
