"""Stored results joined with each experiment's planned runs, and their per-method aggregates."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.manifest import Objective
from offloadlab.experiments.store import ResultsStore


@dataclass
class Record:
    """One planned run and its stored row (None while not stored)."""

    key: str
    label: str
    solver: str
    options: dict[str, Any]
    point: dict[str, Any]
    instance_seed: int
    repetition: int
    reference: bool
    row: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Stored without error."""
        return self.row is not None and self.row["status"] == "ok"

    @property
    def data(self) -> dict[str, Any]:
        """The stored row, empty while not stored."""
        return self.row or {}

    @property
    def objective(self) -> float:
        """The stored objective, +inf when infeasible or missing."""
        obj = self.data.get("objective") if self.ok else None
        return float(obj) if obj is not None and self.data.get("feasible") else math.inf


@dataclass
class Cell:
    """Aggregate of one method (label) at one grid point over seeds and repetitions."""

    label: str
    solver: str
    point: dict[str, Any]
    planned: int
    stored: int
    feasible: int
    mean: float
    std: float
    gap_mean: float  # mean of objective / reference - 1 over runs where both are feasible; nan without
    gap_n: int
    wall_s: float
    evaluations: float
    llm_calls: int
    llm_tokens: int
    invalid_outputs: int
    values: list[float] = field(default_factory=list)


@dataclass
class Experiment:
    """An experiment's manifest with its records."""

    name: str
    figure: str | None
    title: str
    spec: dict[str, Any]
    records: list[Record]

    @property
    def scenario(self) -> str:
        """The scenario id of the experiment's spec."""
        return str(self.spec.get("scenario", ""))

    @property
    def objective(self) -> Objective | None:
        """The scenario's objective (label, unit, direction) from its manifest; None if not registered."""
        from offloadlab.core.registry import get_scenario, scenarios

        return get_scenario(self.scenario).manifest.objective if self.scenario in scenarios() else None

    @property
    def labels(self) -> list[str]:
        """Method labels in spec order."""
        return list(dict.fromkeys(r.label for r in self.records))

    @property
    def points(self) -> list[dict[str, Any]]:
        """Grid points in spec order."""
        seen: dict[str, dict[str, Any]] = {}
        for r in self.records:
            seen.setdefault(json.dumps(r.point, sort_keys=True), r.point)
        return list(seen.values())

    @property
    def reference_label(self) -> str | None:
        """Label of the reference entry, if any."""
        return next((r.label for r in self.records if r.reference), None)

    def solver_of(self, label: str) -> str:
        """Solver behind a label."""
        return next(r.solver for r in self.records if r.label == label)

    def labels_of(self, solver: str) -> list[str]:
        """Labels that run ``solver``."""
        return [lab for lab in self.labels if self.solver_of(lab) == solver]

    def point_label(self, point: dict[str, Any]) -> str:
        """'(20, 6, 4)' for tuple grids, 'N=5' for product grids."""
        keys = (self.spec.get("grid") or {}).get("keys")
        if keys:
            rest = [f"{k}={v}" for k, v in point.items() if k not in keys]
            return "(" + ", ".join(str(point[k]) for k in keys) + ")" + (" " + " ".join(rest) if rest else "")
        return ", ".join(f"{k}={v}" for k, v in point.items())

    def point_keys_label(self) -> str:
        """'(N, M, I)' for tuple grids, else the product's parameter names."""
        keys = (self.spec.get("grid") or {}).get("keys")
        return "(" + ", ".join(keys) + ")" if keys else ", ".join(self.points[0]) if self.points else ""

    def at(self, label: str, point: dict[str, Any]) -> list[Record]:
        """Records of one label at one point."""
        return [r for r in self.records if r.label == label and r.point == point]

    def cells(self) -> list[Cell]:
        """Aggregates per (point, label), points outermost."""
        ref = self.reference_label
        out = []
        for point in self.points:
            ref_obj = {(r.instance_seed, r.repetition): r.objective for r in self.at(ref, point)} if ref else {}
            ref_by_seed = {s: v for (s, _), v in ref_obj.items()}
            for label in self.labels:
                out.append(_cell(label, self.solver_of(label), point, self.at(label, point), ref_by_seed))
        return out

    def cell(self, label: str, point: dict[str, Any]) -> Cell:
        """The aggregate of one label at one point."""
        return next(c for c in self.cells() if c.label == label and c.point == point)

    def stored_rows(self) -> list[dict[str, Any]]:
        """Rows of this experiment's stored runs."""
        return [r.row for r in self.records if r.row is not None]


def _cell(label: str, solver: str, point: dict[str, Any], recs: list[Record], ref_by_seed: dict[int, float]) -> Cell:
    stored = [r for r in recs if r.ok]
    vals = np.array([r.objective for r in stored], dtype=float)
    fin = vals[np.isfinite(vals)]
    gaps = [
        r.objective / ref_by_seed[r.instance_seed] - 1.0
        for r in stored
        if math.isfinite(r.objective)
        and math.isfinite(ref_by_seed.get(r.instance_seed, math.inf))
        and ref_by_seed[r.instance_seed] > 0
    ]

    def total(name: str) -> int:
        return int(sum(int(r.data.get(name) or 0) for r in stored))

    return Cell(
        label=label,
        solver=solver,
        point=point,
        planned=len(recs),
        stored=len(stored),
        feasible=len(fin),
        mean=float(fin.mean()) if len(fin) else math.nan,
        std=float(fin.std(ddof=1)) if len(fin) > 1 else math.nan,  # undefined for one run
        gap_mean=float(np.mean(gaps)) if gaps else math.nan,
        gap_n=len(gaps),
        wall_s=float(np.mean([r.data["wall_s"] for r in stored])) if stored else math.nan,
        evaluations=float(np.mean([r.data.get("evaluations") or 0 for r in stored])) if stored else math.nan,
        llm_calls=total("llm_calls"),
        llm_tokens=total("prompt_tokens") + total("completion_tokens"),
        invalid_outputs=total("invalid_outputs"),
        values=[float(v) for v in vals],
    )


def open_store(path: str | Path) -> ResultsStore:
    """An existing store, or InputError naming the path."""
    store = ResultsStore(path)
    if not store.exists():
        raise InputError(
            "results",
            f"'{path}' is not a results store (expected runs/ and experiments/ in it; "
            "create one with `offloadlab run SPEC --out DIR`)",
        )
    return store


def load_experiments(store: ResultsStore) -> list[Experiment]:
    """Every experiment in the store with its records joined to the stored rows."""
    manifests = store.experiments()
    rows = store.rows()
    out = []
    for name, man in manifests.items():
        recs = [
            Record(
                key=r["key"],
                label=r["label"],
                solver=r["solver"],
                options=r["options"],
                point=r["point"],
                instance_seed=r["instance_seed"],
                repetition=r["repetition"],
                reference=r["reference"],
                row=rows.get(r["key"]),
            )
            for r in man["runs"]
        ]
        out.append(Experiment(name, man.get("figure"), man.get("title") or name, man["spec"], recs))
    return sorted(out, key=lambda e: (e.figure or "~", e.name))


def find_experiment(store: ResultsStore, figure: str | None = None, name: str | None = None) -> Experiment:
    """The experiment named ``name``, or the one reproducing ``figure`` with the most stored runs."""
    exps = load_experiments(store)
    if name:
        match = [e for e in exps if e.name == name]
        if not match:
            raise InputError("experiment", f"'{name}' not in the store (has: {', '.join(e.name for e in exps)})")
        return match[0]
    match = [e for e in exps if e.figure == figure]
    if not match:
        figs = sorted({e.figure for e in exps if e.figure})
        raise InputError("figure", f"no experiment for '{figure}' in the store (has: {', '.join(figs) or 'none'})")
    return max(match, key=lambda e: sum(r.ok for r in e.records))
