"""Look-ahead oracle (our extension): real simulator rollouts instead of the authors' LACS formula."""

from __future__ import annotations

import numpy as np

from offloadlab.scenarios.mec_queues.instance import sample_arrivals
from offloadlab.scenarios.mec_queues.oracles import arriving, least_loaded_actions
from offloadlab.scenarios.mec_queues.sim import QueueSim


def rollout_costs(
    sim: QueueSim, decided: np.ndarray, d: int, rng: np.random.Generator, horizon: int, rollouts: int
) -> np.ndarray:
    """[S + 1] mean total cost (delay, a drop counting 2 D) of every task in copies where device d takes
    each action, later arrivals are sampled from the preset's distribution for ``horizon`` slots (the
    same samples for every action) and are placed by least-loaded."""
    t, k, T = sim.t, sim.S + 1, sim.H - sim.p.drain_slots
    end = min(t + 1 + horizon, T)
    twin = sim.tile(k * rollouts)
    twin.arr[:, t, d + 1 :] = 0.0
    twin.arr[:, t + 1 :] = 0.0
    if end > t + 1:
        futures = np.stack([sample_arrivals(sim.p, rng, slots=end - t - 1) for _ in range(rollouts)])
        twin.arr[:, t + 1 : end] = np.tile(futures, (k, 1, 1))  # copy a * rollouts + r gets future r
    acts = np.repeat(decided[None], k * rollouts, axis=0)
    acts[:, d] = np.repeat(np.arange(k), rollouts)
    twin.step(acts)
    pending = twin.arr > 0
    while (np.isnan(twin.delay) & pending).any() and not twin.done:
        twin.step(least_loaded_actions(twin))
    cost = np.where(twin.dropped, 2.0 * sim.Dl, np.nan_to_num(twin.delay))
    return cost.sum(axis=(1, 2)).reshape(k, rollouts).mean(axis=1)


def lookahead_actions(sim: QueueSim, rng: np.random.Generator, horizon: int, rollouts: int) -> np.ndarray:
    """Devices in order, each taking the action of least mean rollout cost (ties to the lowest id)."""
    acts = np.zeros(sim.D, dtype=np.int64)
    for d in arriving(sim):
        acts[d] = int(np.argmin(rollout_costs(sim, acts, d, rng, horizon, rollouts)))
    return acts
