"""The Problem protocol: what a scenario exposes to solvers, envs, the LLM loop and the CLI."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from offloadlab.core.manifest import Manifest
from offloadlab.core.space import DecisionSpace

if TYPE_CHECKING:
    from offloadlab.core.genome import Genome


class Violations(Sequence[list[str]]):
    """Names of the broken constraints of each decision, read from a [C, B] table only on demand.

    Building B Python lists costs more than the whole vectorized evaluation of a large batch,
    and most consumers (solvers ranking thousands of candidates) only need the counts.
    """

    def __init__(self, checks: Mapping[str, np.ndarray]):
        self.names = list(checks)
        # constraint-major [C, B]: reductions over C then run along contiguous rows, which for
        # a few constraints is several times faster than reducing a short inner axis
        self.table = np.array([np.asarray(v, dtype=bool) for v in checks.values()])

    def __len__(self) -> int:
        return self.table.shape[1]

    def __getitem__(self, b):  # type: ignore[override]
        if isinstance(b, slice):
            return [self[k] for k in range(*b.indices(len(self)))]
        return [self.names[c] for c in np.flatnonzero(self.table[:, b])]

    def counts(self) -> np.ndarray:
        """Number of broken constraints per decision, [B]."""
        return self.table.sum(axis=0)

    @classmethod
    def concat(cls, parts: Sequence[Violations]) -> Violations:
        """The violations of consecutive batches as one (same constraint names in each)."""
        out = cls.__new__(cls)
        out.names, out.table = parts[0].names, np.concatenate([v.table for v in parts], axis=1)
        return out


@dataclass
class Evaluation:
    """Batched evaluation of B decisions: objective (lower is better), feasibility and details."""

    objective: np.ndarray  # [B], +inf where infeasible
    feasible: np.ndarray  # [B] bool
    violations: Sequence[list[str]]  # per decision, names of broken constraints
    details: dict[str, np.ndarray] = field(default_factory=dict)  # per-decision arrays, leading dim B

    @classmethod
    def from_checks(
        cls, value: np.ndarray, checks: Mapping[str, np.ndarray], details: dict[str, np.ndarray] | None = None
    ) -> Evaluation:
        """Evaluation from the raw objective ``value`` [B] and named constraint checks (True = broken)."""
        value = np.asarray(value, dtype=float)
        broken = Violations(checks).table.any(axis=0) if checks else np.zeros(value.shape, dtype=bool)
        # a non-finite objective is never feasible: named as such where no other violation explains it
        unexplained = ~np.isfinite(value) & ~broken
        violations = Violations(
            {**checks, "non_finite_objective": unexplained} if unexplained.any() or not checks else checks
        )
        feasible = np.asarray(~violations.table.any(axis=0), dtype=bool)
        return cls(np.where(feasible, value, np.inf), feasible, violations, details or {})

    @classmethod
    def concat(cls, parts: Sequence[Evaluation]) -> Evaluation:
        """The evaluations of consecutive batches as one."""
        if all(isinstance(e.violations, Violations) for e in parts):
            violations: Sequence[list[str]] = Violations.concat([e.violations for e in parts])  # type: ignore[misc]
        else:
            violations = [v for e in parts for v in e.violations]
        details = {k: np.concatenate([e.details[k] for e in parts]) for k in parts[0].details}
        return cls(
            np.concatenate([e.objective for e in parts]),
            np.concatenate([e.feasible for e in parts]),
            violations,
            details,
        )

    def violation_counts(self) -> np.ndarray:
        """Number of broken constraints per decision, [B]."""
        if isinstance(self.violations, Violations):
            return self.violations.counts()
        return np.array([len(v) for v in self.violations])

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
    (an episode of slots, ``manifest.sequential``) evaluate a whole episode's decisions; their
    solvers run a policy through the episode.
    """

    manifest: Manifest
    # Objective value that stands in for "never finishes" inside penalised scores (same unit as
    # the objective); generic solvers clip to it instead of ranking infinities.
    objective_cap: float

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


class ProblemBase:
    """Convenience base: ``id``, ``sequential`` and ``objective_name`` read from the manifest."""

    manifest: Manifest
    objective_cap: float = math.inf

    @property
    def id(self) -> str:
        """The scenario id."""
        return self.manifest.id

    @property
    def sequential(self) -> bool:
        """Whether an instance is an episode of slots rather than one static decision."""
        return self.manifest.sequential

    @property
    def objective_name(self) -> str:
        """Key of the objective in evaluation details."""
        return self.manifest.objective.name


# Optional capabilities: generic solvers check them with isinstance (runtime-checkable Protocols).
@runtime_checkable
class Repairable(Protocol):
    """Projects decisions onto the structural constraints."""

    def repair(self, instance: Any, decisions: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The nearest structurally valid batch of decisions."""
        ...


@runtime_checkable
class HasGenome(Protocol):
    """Offers its own GA encoding."""

    def genome(self, instance: Any) -> Genome:
        """The scenario's genome for the GA."""
        ...


@runtime_checkable
class RandomDecisions(Protocol):
    """Samples the paper's random-choice baseline."""

    def random_decisions(self, instance: Any, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """A batch of random decisions."""
        ...


@runtime_checkable
class LocalDecision(Protocol):
    """Has an all-local (do-nothing) decision."""

    def local_decision(self, instance: Any) -> dict[str, np.ndarray]:
        """The decision that processes everything locally."""
        ...


@runtime_checkable
class Describable(Protocol):
    """Describes an instance for prompts and reports."""

    def describe(self, instance: Any) -> dict[str, Any]:
        """Template parameters of an instance."""
        ...
