"""Experiment spec files: a validated description of a sweep (scenario, grid, seeds, solvers, budgets).

A spec is checked in two steps, both before any run starts: its structure with pydantic
(``ExperimentSpec``), then against what is installed (``check_registered``): the scenario and
every solver must be registered, options must be ones the solver takes, and every grid point
must give a valid instance.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError, UnknownNameError, excerpt
from offloadlab.core.io import MAX_DEPTH, read_text
from offloadlab.experiments.confine import refuse_secret_options

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_SPEC_BYTES = 2**20
MAX_SEEDS = 10_000
MAX_SEED = 2**63 - 1  # seeds are stored as int64
MAX_BUDGET = 10**9
MAX_RUNS_ENV = "OFFLOADLAB_MAX_RUNS"
MAX_RUNS = 20_000  # a bigger sweep is almost surely a typo (each run is a manifest entry and a file)


def max_runs() -> int:
    """The most runs one spec may plan: $OFFLOADLAB_MAX_RUNS, else MAX_RUNS."""
    raw = os.environ.get(MAX_RUNS_ENV, "")
    if not raw:
        return MAX_RUNS
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(MAX_RUNS_ENV, f"expected a positive integer (got {excerpt(raw)})")
    return int(raw)


class SpecLoader(yaml.SafeLoader):
    """YAML without anchors or aliases (a few aliases can expand to gigabytes) and with bounded nesting."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, refusing aliases, anchors and nesting deeper than MAX_DEPTH."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases (&name, *name) are not allowed in spec files; write the values out",
                event.start_mark,
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A mapping, refusing a key given twice (YAML keeps the last silently: the spec is ambiguous)."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {excerpt(key)} appears twice in one mapping", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class SolverEntry(StrictModel):
    """One method of the sweep: a registered solver with its options and evaluation budget."""

    name: str = Field(min_length=1, description="registered solver name (see `offloadlab list`)")
    label: str | None = Field(None, min_length=1, description="legend label; defaults to the name")
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options of the solver")
    budget: int | None = Field(
        None,
        ge=1,
        le=MAX_BUDGET,
        description="evaluation budget; defaults to the spec's budget (an explicit null: the solver's own default)",
    )
    reference: bool = Field(False, description="drawn as the dashed reference line; gaps are measured to it")
    optional: bool = Field(False, description="skip (with a notice) instead of failing when not registered")

    @property
    def shown(self) -> str:
        """The legend label."""
        return self.label or self.name


class Grid(StrictModel):
    """Instance grid: explicit points (tuples named by ``keys``, or mappings) times a cartesian product."""

    keys: list[str] | None = Field(None, min_length=1, description="parameter names of tuple points")
    points: list[Any] | None = Field(None, min_length=1, description="tuples (with keys) or mappings")
    product: dict[str, list[Any]] = Field(default_factory=dict, description="parameter -> values, all combined")

    @model_validator(mode="after")
    def _shapes(self) -> Grid:
        for name, values in self.product.items():
            if not values:
                raise PydanticCustomError("grid", "product.{name} is empty (give at least one value)", {"name": name})
        for j, point in enumerate(self.points or []):
            if not isinstance(point, (list, dict)):
                raise PydanticCustomError(
                    "grid", "points.{j} must be a list of values or a mapping (got {p})", {"j": j, "p": point}
                )
            if isinstance(point, list):
                if self.keys is None:
                    raise PydanticCustomError(
                        "grid",
                        "points.{j} is a list but grid.keys is missing (name the tuple entries, e.g. keys: [N, M, I])",
                        {"j": j},
                    )
                if len(point) != len(self.keys):
                    raise PydanticCustomError(
                        "grid",
                        "points.{j} has {n} values, expected {k} (keys {keys})",
                        {"j": j, "n": len(point), "k": len(self.keys), "keys": ", ".join(self.keys)},
                    )
        size = len(self.points or [None]) * math.prod(len(v) for v in self.product.values())
        if size > max_runs():
            raise PydanticCustomError(
                "grid", "{n} grid points, more than the {m} runs a spec may plan", {"n": size, "m": max_runs()}
            )
        expanded = self.expand()
        seen: set[str] = set()
        for point in expanded:
            canon = repr(sorted(point.items()))
            if canon in seen:
                raise PydanticCustomError("grid", "point {p} appears twice", {"p": point})
            seen.add(canon)
        return self

    def expand(self) -> list[dict[str, Any]]:
        """Every grid point as a parameter mapping, points first then product, in file order."""
        base = [dict(zip(self.keys or [], p)) if isinstance(p, list) else dict(p) for p in (self.points or [{}])]
        names = list(self.product)
        combos = [dict(zip(names, c)) for c in itertools.product(*self.product.values())] or [{}]
        return [{**b, **c} for b in base for c in combos]


class PlotSpec(StrictModel):
    """How the experiment is drawn: convergence curves, lines over a parameter, or bars per grid point."""

    kind: Literal["convergence", "lines", "bars"]
    x: str | None = Field(None, description="grid parameter on the x axis (lines)")
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""


class ExperimentSpec(StrictModel):
    """A sweep: every grid point x instance seed x solver x repetition is one run."""

    name: str = Field(pattern=NAME_PATTERN, description="experiment name (letters, digits, _ . -)")
    title: str = ""
    figure: str | None = Field(None, pattern=NAME_PATTERN, description="paper figure it reproduces, e.g. fig4")
    plot: PlotSpec | None = None
    scenario: str
    preset: str = "default"
    params: dict[str, Any] = Field(default_factory=dict, description="parameter overrides of every instance")
    grid: Grid = Field(default_factory=lambda: Grid.model_validate({}))
    seeds: list[int] = Field(description="instance seeds: a count n (seeds 0..n-1), {start, count} or a list")
    repetitions: int = Field(1, ge=1, le=10_000, description="solver runs per instance (different solver seeds)")
    budget: int | None = Field(None, ge=1, le=MAX_BUDGET, description="default evaluation budget of every solver")
    solvers: list[SolverEntry] = Field(min_length=1)
    add_registered_solvers: bool = Field(False, description="also run every other registered solver")
    exclude_solvers: list[str] = Field(default_factory=list, description="left out by add_registered_solvers")

    @field_validator("seeds", mode="before")
    @classmethod
    def _seeds(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError("seeds", "expected a count, {start, count} or a list of seeds")
        if isinstance(value, int):
            return _seed_range(0, value)
        if isinstance(value, dict):
            if set(value) - {"start", "count"} or "count" not in value:
                raise PydanticCustomError(
                    "seeds", "expected {start, count} (got keys {k})", {"k": ", ".join(map(str, value))}
                )
            start = value.get("start", 0)
            if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= MAX_SEED:
                raise PydanticCustomError("seeds", "start {s} outside the allowed range [0, 2**63)", {"s": start})
            return _seed_range(start, value["count"])
        if isinstance(value, list):
            bad = [s for s in value if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= MAX_SEED]
            if bad or not value:
                raise PydanticCustomError(
                    "seeds",
                    "seeds must be a non-empty list of integers in [0, 2**63) (got {b})",
                    {"b": bad[0] if bad else value},
                )
            if len(value) > MAX_SEEDS:
                raise PydanticCustomError(
                    "seeds", "{n} seeds, more than the {m} allowed", {"n": len(value), "m": MAX_SEEDS}
                )
            if len(set(value)) != len(value):
                raise PydanticCustomError("seeds", "a seed appears twice")
            return value
        raise PydanticCustomError(
            "seeds", "expected a count, {start, count} or a list of seeds (got {v})", {"v": value}
        )

    def points(self) -> list[dict[str, Any]]:
        """Grid points with the spec-wide overrides applied underneath."""
        return [{**self.params, **p} for p in self.grid.expand()]

    def budget_of(self, entry: SolverEntry) -> int | None:
        """The entry's budget, else the spec's; ``budget: null`` in the entry keeps the solver's default."""
        return entry.budget if "budget" in entry.model_fields_set else self.budget


def _seed_range(start: int, count: Any) -> list[int]:
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_SEEDS:
        raise PydanticCustomError(
            "seeds", "seed count {c} outside the allowed range [1, {m}]", {"c": count, "m": MAX_SEEDS}
        )
    if start + count - 1 > MAX_SEED:
        raise PydanticCustomError("seeds", "seeds beyond 2**63 - 1 (start {s}, count {c})", {"s": start, "c": count})
    return list(range(start, start + count))


def check_size(spec: ExperimentSpec, where: str = "spec") -> ExperimentSpec:
    """Refuse a spec planning more than max_runs() runs (before anything expands it)."""
    n = len(spec.seeds) * len(spec.grid.expand()) * len(spec.solvers) * spec.repetitions
    if n > max_runs():
        raise InputError(
            where,
            f"{n} runs (seeds x grid points x solvers x repetitions), more than the "
            f"{max_runs()} allowed (${MAX_RUNS_ENV} raises the limit)",
        )
    return spec


def parse_spec(data: Any, where: str = "spec") -> ExperimentSpec:
    """Validate a spec mapping (structure only); InputError names the first bad field."""
    spec = parse_model(ExperimentSpec, data, where)
    for i, entry in enumerate(spec.solvers):
        refuse_secret_options(entry.options, f"{where}.solvers.{i}.options")
    labels = [s.shown for s in spec.solvers]
    dup = next((lab for lab in labels if labels.count(lab) > 1), None)
    if dup is not None:
        raise InputError(f"{where}.solvers", f"label '{dup}' is used twice (give each entry its own label)")
    runs: dict[str, str] = {}
    for entry in spec.solvers:
        ident = json.dumps([entry.name, entry.options, spec.budget_of(entry)], sort_keys=True, default=str)
        if ident in runs:
            raise InputError(
                f"{where}.solvers",
                f"entries '{runs[ident]}' and '{entry.shown}' are the same run "
                "(same solver, options and budget); make them differ or drop one",
            )
        runs[ident] = entry.shown
    if sum(s.reference for s in spec.solvers) > 1:
        raise InputError(f"{where}.solvers", "more than one entry has reference: true")
    names = set(spec.grid.expand()[0])
    if spec.plot and spec.plot.kind == "lines" and spec.plot.x not in names:
        raise InputError(
            f"{where}.plot.x",
            f"'{spec.plot.x}' is not a grid parameter (grid has: {', '.join(sorted(names)) or 'none'})",
        )
    return check_size(spec, where)


def load_spec(path: str | Path, check: bool = True, skip_unregistered: bool = False) -> ExperimentSpec:
    """Read and validate a YAML spec file; with ``check`` also against the registry (see check_registered)."""
    p = Path(path)
    text = read_text(p, "spec", max_bytes=MAX_SPEC_BYTES)
    try:
        data = yaml.load(text, Loader=SpecLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        raise InputError(str(p), f"not valid YAML{where}{': ' + problem if problem else ''}") from None
    try:
        spec = parse_spec(data)
        return check_registered(spec, skip_unregistered=skip_unregistered) if check else spec
    except InputError as exc:  # name the file, then the field inside it
        raise InputError(f"{p}: {exc.field.removeprefix('spec.')}", exc.message) from None


def check_registered(spec: ExperimentSpec, where: str = "spec", skip_unregistered: bool = False) -> ExperimentSpec:
    """Check the spec against the installed scenarios and solvers; returns it with its solver list resolved.

    Optional entries whose solver is missing (every such entry with ``skip_unregistered``) are dropped;
    ``add_registered_solvers`` appends every
    other registered solver not excluded. Every grid point is turned into an instance once, so a
    bad parameter fails here, not in the middle of the sweep.
    """
    from offloadlab.core.registry import get_scenario, solvers_for
    from offloadlab.core.run import check_options

    try:
        problem = get_scenario(spec.scenario)
    except UnknownNameError as exc:
        raise InputError(f"{where}.scenario", str(exc)) from None
    registered = solvers_for(spec.scenario)
    entries = []
    for i, entry in enumerate(spec.solvers):
        if entry.name not in registered:
            if entry.optional or skip_unregistered:
                continue
            raise InputError(
                f"{where}.solvers.{i}.name",
                f"unknown solver '{entry.name}' for {spec.scenario} (registered: {', '.join(sorted(registered))})",
            )
        try:
            check_options(spec.scenario, entry.name, entry.options)
        except InputError as exc:
            key = exc.field.removeprefix("option ")
            raise InputError(f"{where}.solvers.{i}.options.{key}", exc.message) from None
        entries.append(entry)
    for j, name in enumerate(spec.exclude_solvers):
        if name not in registered:
            raise InputError(
                f"{where}.exclude_solvers.{j}",
                f"unknown solver '{name}' for {spec.scenario} (registered: {', '.join(sorted(registered))})",
            )
    if spec.add_registered_solvers:
        listed = {e.name for e in entries} | set(spec.exclude_solvers)
        entries += [SolverEntry.model_validate({"name": n}) for n in sorted(registered) if n not in listed]
    if not entries:
        raise InputError(f"{where}.solvers", "no listed solver is registered")
    for j, point in enumerate(spec.points()):
        try:
            problem.make_instance(spec.seeds[0], spec.preset, **point)
        except UnknownNameError as exc:
            raise InputError(f"{where}.preset", str(exc)) from None
        except InputError as exc:
            raise InputError(f"{where}.grid point {j} {point}", f"{exc.field}: {exc.message}") from None
    return check_size(spec.model_copy(update={"solvers": entries}), where)
