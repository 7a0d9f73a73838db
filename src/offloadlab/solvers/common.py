"""Helpers shared by solvers: penalised scores and result assembly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from offloadlab.core.problem import Evaluation, Problem, RandomDecisions
from offloadlab.core.result import Result, Tracker


def random_decisions(problem: Problem, instance: Any, rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """The problem's own random rule, or uniform samples of its decision space when it has none."""
    if isinstance(problem, RandomDecisions):
        return problem.random_decisions(instance, rng, size)
    return problem.decision_space(instance).sample(rng, size)


def take(decisions: Mapping[str, np.ndarray], b: int) -> dict[str, np.ndarray]:
    """Decision ``b`` of a batch."""
    return {k: np.asarray(v)[b] for k, v in decisions.items()}


def stack(decisions: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Stack single decisions into a batch."""
    return {k: np.stack([np.asarray(d[k]) for d in decisions]) for k in decisions[0]}


def finish(
    problem: Any,
    instance: Any,
    decision: Mapping[str, np.ndarray],
    tracker: Tracker,
    extra_details: Mapping[str, Any] | None = None,
    record: bool = False,
    **stats: Any,
) -> Result:
    """The one result packager of static decisions: evaluate the final decision once more (recorded as
    one evaluation with ``record``), and package it with the solver's stats and extra details."""
    ev = problem.evaluate(instance, {k: np.asarray(v)[None] for k, v in decision.items()})
    if record:
        tracker.record(1, float(ev.objective[0]))
    return Result(
        decision={k: np.asarray(v) for k, v in decision.items()},
        objective=float(ev.objective[0]),
        feasible=bool(ev.feasible[0]),
        history=tracker.history,
        stats=tracker.stats(**stats),
        details={**ev.report(0), **(extra_details or {})},
    )


def best_index(ev: Evaluation) -> int:
    """Index of the best decision in a batch (feasible first, then objective)."""
    return int(np.argmin(ev.objective)) if ev.feasible.any() else 0
