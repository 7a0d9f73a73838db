"""Expanding a spec into runs, each with a deterministic key so a rerun can skip what is stored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from offloadlab.core.registry import get_solver
from offloadlab.experiments.confine import confine_options
from offloadlab.experiments.spec import ExperimentSpec


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's result (the key hashes all of it) plus its legend label."""

    scenario: str
    preset: str
    params: dict[str, Any]
    instance_seed: int
    solver: str
    options: dict[str, Any]
    budget: int | None
    repetition: int
    solver_seed: int
    label: str = field(default="", compare=False)
    reference: bool = field(default=False, compare=False)
    point: dict[str, Any] = field(default_factory=dict, compare=False)  # the grid coordinates only
    # the results folder: path options resolve inside it (experiments.confine); not part of the key, so a
    # store that is moved keeps its runs
    root: str = field(default="", compare=False)
    # identity of the trained file the solver plays (None for every other solver, and then not in the key,
    # so the keys of stores written before it existed stay valid)
    artefact: str | None = None

    @property
    def key(self) -> str:
        """Hash of the canonical JSON of the fields that determine the result (not the label)."""
        ident = {k: v for k, v in asdict(self).items() if k not in ("label", "reference", "point", "root")}
        if self.artefact is None:
            del ident["artefact"]
        text = json.dumps(ident, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def describe(self) -> str:
        """Short human description for progress lines."""
        where = ", ".join(f"{k}={v}" for k, v in self.point.items())
        rep = f" rep {self.repetition}" if self.repetition else ""
        return f"{self.label or self.solver} [{where + ', ' if where else ''}seed {self.instance_seed}{rep}]"


def solver_seed(instance_seed: int, repetition: int) -> int:
    """Seed of the solver's generator: a hash of (instance seed, repetition), decorrelated from the instance."""
    digest = hashlib.sha256(f"solver:{instance_seed}:{repetition}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def expand(spec: ExperimentSpec, root: str = "") -> list[RunConfig]:
    """All runs of a (registry-checked) spec; seeds outermost so a partial sweep covers whole seeds
    (``root``: the results folder their path options resolve in)."""
    runs = []
    grid = spec.grid.expand()
    artefacts = [
        _artefact(spec.scenario, e.name, confine_options(e.options, Path(root), "spec") if root else e.options)
        for e in spec.solvers
    ]
    for seed in spec.seeds:
        for point in grid:
            params = {**spec.params, **point}
            for entry, artefact in zip(spec.solvers, artefacts):
                for rep in range(spec.repetitions):
                    runs.append(
                        RunConfig(
                            scenario=spec.scenario,
                            preset=spec.preset,
                            params=params,
                            instance_seed=seed,
                            solver=entry.name,
                            options=dict(entry.options),
                            budget=spec.budget_of(entry),
                            repetition=rep,
                            solver_seed=solver_seed(seed, rep),
                            label=entry.shown,
                            reference=entry.reference,
                            point=dict(point),
                            root=root,
                            artefact=artefact,
                        )
                    )
    return runs


def _artefact(scenario: str, solver: str, options: dict[str, Any]) -> str | None:
    """The identity of the trained file a solver entry plays (None: not a solver of trained files)."""
    identify = get_solver(scenario, solver).artefact
    return identify(options) if identify else None
