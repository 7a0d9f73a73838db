"""The paper's baselines as round policies, and the flat centralised scheduler (extension).

- threshold: offload every reachable task whose on-board inference time per image exceeds ``threshold_ms``
  (paper: 20 ms), to the least-loaded container, whatever the load (it may break constraint (6)).
- workload: offload reachable tasks while the average container load is below ``max_load`` (paper: 50 %),
  each to the least-loaded container.
- central (extension, labelled): the station collects every task and container state each round and
  assigns greedily by benefit into containers with room; with equal-size tasks this greedy is optimal for
  the round. Messages per round: one per satellite with tasks and one per container up, one decision per
  satellite and per container that receives work down.
"""

from __future__ import annotations

import numpy as np

from offloadlab.methods.leo_inference.rounds import RoundLog, RoundProblem, greedy_assign, least_loaded


def threshold_policy(slow: np.ndarray):
    """Round policy offloading the tasks flagged ``slow`` (indexed by task) to the least-loaded container."""

    def policy(rp: RoundProblem, log: RoundLog) -> np.ndarray:
        busy, slots = rp.q.copy(), rp.slot_array
        out = np.full(rp.tasks.size, -1)
        for n in np.flatnonzero(slow[rp.tasks]):
            j = least_loaded(busy / slots)
            out[n], busy[j] = j, busy[j] + rp.demand[n]
        return out

    return policy


def workload_policy(max_load: float):
    """Round policy offloading while the mean container load (busy slots / all slots) is below ``max_load``."""

    def policy(rp: RoundProblem, log: RoundLog) -> np.ndarray:
        busy, slots = rp.q.copy(), rp.slot_array
        out = np.full(rp.tasks.size, -1)
        for n in range(rp.tasks.size):
            if busy.sum() / slots.sum() >= max_load:
                break
            j = least_loaded(busy / slots)
            out[n], busy[j] = j, busy[j] + rp.demand[n]
        return out

    return policy


def central_policy(rp: RoundProblem, log: RoundLog) -> np.ndarray:
    """Flat centralised scheduler: greedy by benefit into rooms; counts its messages."""
    out = greedy_assign(rp, np.argsort(-rp.benefit, kind="stable"))
    n_sat = int(np.unique(rp.sats).size)
    o = rp.q.size
    log.messages["satellite-LBS"] += 2 * n_sat
    log.messages["server-container"] += o + int(np.unique(out[out >= 0]).size)
    return out
