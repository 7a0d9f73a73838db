"""Playing a policy through a mec-queues episode and packing the outcome as a solver Result.

A Result holds both worlds: the objective and the top-level details are the closed loop (the episode played in
the simulator, decisions change later states); ``details["open_loop"]`` is the authors' world (openloop.py:
the same policy asked on a fixed test set of states, each scored alone by the one-step cost, in slots).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from offloadlab.core.result import Result
from offloadlab.methods.mec_queues.openloop import open_loop
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.metrics import closed_loop_metrics
from offloadlab.scenarios.mec_queues.sim import QueueSim

# A policy maps the state of a one-copy simulator at the start of a slot to actions [D] for that slot.
Policy = Callable[[QueueSim], np.ndarray]
CLOSED_LOOP_WORLD = "closed loop: the episode played in the simulator (delay in slots, drops at D)"


def play(instance: MecInstance, policy: Policy) -> QueueSim:
    """Run the whole episode (arrival and drain slots) with ``policy`` deciding each slot."""
    sim = QueueSim(instance.params, instance.arrivals)
    while not sim.done:
        sim.step(policy(sim) if sim.t < instance.params.slots else np.zeros(sim.D, dtype=np.int64))
    return sim


def actions_of(sim: QueueSim) -> np.ndarray:
    """The decision table [T, D] the episode applied (0 where no task arrived)."""
    T = sim.H - sim.p.drain_slots
    return np.maximum(sim.action[0, :T], 0)


def to_result(sim: QueueSim, started: float, **stats: Any) -> Result:
    """A Result holding the applied actions, the mean delay and the closed-loop metrics (with each server's
    processed Mbit, the vector of the closed-loop Jain index)."""
    metrics = {"world": CLOSED_LOOP_WORLD, **closed_loop_metrics(sim), "server_work_mbit": sim.work[0].tolist()}
    return Result(
        decision={"actions": actions_of(sim)},
        objective=metrics["mean_delay_slots"],
        feasible=True,
        stats={"seconds": time.perf_counter() - started, "world": "closed-loop", **stats},
        details=metrics,
    )


def add_open_loop(result: Result, instance: MecInstance, policy: Policy) -> Result:
    """Add the policy's open-loop metrics to a closed-loop Result (after the episode: the objective, and the
    random draws it used, are those of the closed loop alone)."""
    started = time.perf_counter()
    result.details["open_loop"] = open_loop(instance, policy)
    result.stats["open_loop_seconds"] = time.perf_counter() - started
    return result


def run_policy(instance: MecInstance, policy: Policy, both_worlds: bool = True, **stats: Any) -> Result:
    """Play ``policy`` and return its Result, with its open-loop metrics unless ``both_worlds`` is False."""
    started = time.perf_counter()
    result = to_result(play(instance, policy), started, **stats)
    return add_open_loop(result, instance, policy) if both_worlds else result
