"""Playing a policy through a mec-queues episode and packing the outcome as a solver Result."""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from offloadlab.core.result import Result
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.metrics import closed_loop_metrics
from offloadlab.scenarios.mec_queues.sim import QueueSim

# A policy maps the state of a one-copy simulator at the start of a slot to actions [D] for that slot.
Policy = Callable[[QueueSim], np.ndarray]


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
    """A Result holding the applied actions, the mean delay and the closed-loop metrics."""
    metrics = closed_loop_metrics(sim)
    return Result(decision={"actions": actions_of(sim)}, objective=metrics["mean_delay_slots"], feasible=True,
                  stats={"seconds": time.perf_counter() - started, "world": "closed-loop", **stats},
                  details=metrics)


def run_policy(instance: MecInstance, policy: Policy, **stats: Any) -> Result:
    """Play ``policy`` and return its Result."""
    started = time.perf_counter()
    return to_result(play(instance, policy), started, **stats)
