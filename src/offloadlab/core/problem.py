"""The Problem protocol: what a scenario exposes to solvers, envs, the LLM loop and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

import numpy as np

from offloadlab.core.space import DecisionSpace


@dataclass
class Evaluation:
    """Batched evaluation of B decisions: objective (lower is better), feasibility and details."""

    objective: np.ndarray  # [B], +inf where infeasible
    feasible: np.ndarray  # [B] bool
    violations: list[list[str]]  # per decision, names of broken constraints
    details: dict[str, np.ndarray] = field(default_factory=dict)  # per-decision arrays, leading dim B

    def report(self, b: int = 0) -> dict[str, Any]:
        """JSON-ready report of decision ``b``."""
        from offloadlab.core.result import jsonable

        out = {"feasible": bool(self.feasible[b]), "violations": list(self.violations[b])}
        out.update({k: jsonable(v[b]) for k, v in self.details.items()})
        return out


@runtime_checkable
class Problem(Protocol):
    """A scenario: generates and validates instances, declares decisions, evaluates them in batch.

    Static problems (one decision per instance) implement ``evaluate``. Sequential problems
    (an episode of slots) set ``sequential = True``; their instance is the episode configuration
    and a solver runs a policy through the episode.
    """

    id: str
    sequential: bool
    objective_name: str

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """A JSON-ready instance generated from a preset, overrides and a seed."""
        ...

    def load_instance(self, data: Mapping[str, Any]) -> Any:
        """Validate JSON data into the scenario's instance object (raises InputError)."""
        ...

    def decision_space(self, instance: Any) -> DecisionSpace:
        """The decision space of an instance."""
        ...

    def evaluate(self, instance: Any, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Evaluate a batch of decisions (arrays with a leading batch dim)."""
        ...
