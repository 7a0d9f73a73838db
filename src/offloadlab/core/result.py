"""The common result of every solver, with a convergence history on a shared axis."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HistoryPoint:
    """Best objective seen after a number of evaluations, seconds and LLM tokens."""

    evaluations: int
    seconds: float
    best_objective: float
    llm_calls: int = 0
    llm_tokens: int = 0


@dataclass
class Result:
    """What every solver returns: the decision, its objective, and how it got there."""

    decision: dict[str, Any]
    objective: float
    feasible: bool
    history: list[HistoryPoint] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the guard of Evaluation.from_checks, for solvers that build their result directly: a non-finite
        # (or missing) objective is never feasible
        try:
            finite = math.isfinite(float(self.objective))
        except (TypeError, ValueError):
            finite = False
        if self.feasible and not finite:
            self.feasible = False
            self.details = {**self.details, "violations": [*self.details.get("violations", []), "non_finite_objective"]}

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (arrays as nested lists, inf as null)."""
        return {
            "decision": _jsonable(self.decision),
            "objective": _finite_or_none(self.objective),
            "feasible": bool(self.feasible),
            "stats": _jsonable(self.stats),
            "details": _jsonable(self.details),
            "history": [_jsonable(vars(h)) for h in self.history],
        }


class Tracker:
    """Counts evaluations and records the best-so-far curve while a solver runs."""

    def __init__(self, budget: int | None = None):
        self.budget = budget
        self.evaluations = 0
        self.best = math.inf
        self.llm_calls = 0
        self.llm_tokens = 0
        self.start = time.perf_counter()
        self.history: list[HistoryPoint] = []

    @property
    def exhausted(self) -> bool:
        """Whether the evaluation budget is used up."""
        return self.budget is not None and self.evaluations >= self.budget

    @property
    def remaining(self) -> int | None:
        """Evaluations left, or None without a budget."""
        return None if self.budget is None else max(0, self.budget - self.evaluations)

    @property
    def seconds(self) -> float:
        """Seconds since the tracker started."""
        return time.perf_counter() - self.start

    def record(self, evaluations: int, objective: float) -> None:
        """Account for a batch of evaluations whose best objective is ``objective``."""
        self.evaluations += int(evaluations)
        if objective < self.best:
            self.best = float(objective)
        self.history.append(HistoryPoint(self.evaluations, self.seconds, self.best, self.llm_calls, self.llm_tokens))

    def stats(self, **extra: Any) -> dict[str, Any]:
        """The standard stats block: evaluations and seconds, plus solver-specific extras."""
        return {"evaluations": self.evaluations, "seconds": round(self.seconds, 6), **extra}


def _finite_or_none(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _jsonable(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return _finite_or_none(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


jsonable = _jsonable
