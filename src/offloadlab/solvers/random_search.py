"""Random choice (RC): the best feasible of ``budget`` random decisions."""

from __future__ import annotations

from typing import Any

import numpy as np

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.resources import check_batch
from offloadlab.core.result import Result, Tracker
from offloadlab.solvers.common import finish, random_decisions, take

CHUNK = 256


@register_solver(
    "random", smoke=Smoke(budget=50), description="random choice (RC): best feasible of `budget` random decisions"
)
def solve_random(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """Sample ``budget`` decisions (default 1000) with the problem's random rule; keep the best feasible."""
    total = budget or 1000
    tracker = Tracker(total)
    check_batch(instance, min(CHUNK, total), "solver random")
    best: dict[str, np.ndarray] | None = None
    best_obj = np.inf
    while tracker.evaluations < total:
        n = min(CHUNK, total - tracker.evaluations)
        batch = random_decisions(problem, instance, rng, n)
        ev = problem.evaluate(instance, batch)
        b = int(np.argmin(ev.objective))
        if best is None or ev.objective[b] < best_obj:
            best, best_obj = take(batch, b), float(ev.objective[b])
        tracker.record(n, best_obj)
    assert best is not None  # at least one batch was drawn
    return finish(problem, instance, best, tracker)
