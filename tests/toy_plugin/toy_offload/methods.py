"""Methods floor: one scenario-specific solver (may import offloadlab.solvers, rl, llm)."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.solvers.common import finish

from .model import SCENARIO_ID, ToyInstance


@register_solver(
    "greedy", SCENARIO_ID, "offload the largest tasks while it lowers the mean latency", budget_unit="evaluations"
)
def solve_greedy(
    problem: Any,
    instance: ToyInstance,
    budget: int | None,
    rng: np.random.Generator,
    max_offloaded: Annotated[int, Field(ge=0)] = 1000,
) -> Result:
    """Try offloading the k largest tasks for k = 0..N, keep the best."""
    tracker = Tracker(budget)
    order = np.argsort(-instance.work_cycles)
    k_max = min(instance.params.N, max_offloaded)
    batch = np.zeros((k_max + 1, instance.params.N))
    for k in range(1, k_max + 1):
        batch[k, order[:k]] = 1.0
    ev = problem.evaluate(instance, {"offload": batch})
    best = int(np.argmin(ev.objective))
    tracker.record(len(batch), float(ev.objective[best]))
    return finish(problem, instance, {"offload": batch[best]}, tracker)
