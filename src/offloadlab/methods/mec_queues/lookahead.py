"""Look-ahead oracle (our extension): real simulator rollouts instead of the authors' LACS formula.

Each arriving task tries every action in copies of the simulator; later arrivals are sampled from the
instance's distribution for ``horizon`` slots and placed by a rollout policy, and the action of least mean
total cost wins. The rollout policy decides how good the look-ahead can be: a policy that never computes
locally (least-loaded) makes every action look worse than it is when servers are crowded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from offloadlab.scenarios.mec_queues.instance import sample_arrivals
from offloadlab.scenarios.mec_queues.oracles import (
    arriving,
    comllm_oracle_batch,
    greedy_oracle_batch,
    least_loaded_actions,
)
from offloadlab.scenarios.mec_queues.sim import QueueSim

RolloutPolicy = Literal["comllm-oracle", "greedy-oracle", "least-loaded"]
ROLLOUT_POLICIES: dict[str, Callable[[QueueSim], np.ndarray]] = {
    "comllm-oracle": comllm_oracle_batch,
    "greedy-oracle": greedy_oracle_batch,
    "least-loaded": least_loaded_actions,
}
DEFAULT_ROLLOUT: RolloutPolicy = "comllm-oracle"  # chosen by measurement: docs/mec-queues.md, look-ahead oracle


def rollout_costs(
    sim: QueueSim,
    decided: np.ndarray,
    d: int,
    rng: np.random.Generator,
    horizon: int,
    rollouts: int,
    policy: RolloutPolicy = DEFAULT_ROLLOUT,
) -> np.ndarray:
    """[S + 1] mean total cost (delay, a drop counting 2 D) of every task in copies where device d takes
    each action, later arrivals are sampled from the preset's distribution for ``horizon`` slots (the
    same samples for every action) and are placed by the rollout ``policy``."""
    t, k, T = sim.t, sim.S + 1, sim.H - sim.p.drain_slots
    decide = ROLLOUT_POLICIES[policy]
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
        twin.step(decide(twin))
    cost = np.where(twin.dropped, 2.0 * sim.Dl, np.nan_to_num(twin.delay))
    return cost.sum(axis=(1, 2)).reshape(k, rollouts).mean(axis=1)


def lookahead_actions(
    sim: QueueSim, rng: np.random.Generator, horizon: int, rollouts: int, policy: RolloutPolicy = DEFAULT_ROLLOUT
) -> np.ndarray:
    """Devices in order, each taking the action of least mean rollout cost (ties to the lowest id)."""
    acts = np.zeros(sim.D, dtype=np.int64)
    for d in arriving(sim):
        acts[d] = int(np.argmin(rollout_costs(sim, acts, d, rng, horizon, rollouts, policy)))
    return acts
