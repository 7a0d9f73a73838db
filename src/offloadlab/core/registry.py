"""Registry of scenarios, solvers and papers, filled by plug-ins: built-ins and third-party packages alike.

A plug-in is a module named by an entry point of the group ``offloadlab.plugins`` (or by the
environment variable ``OFFLOADLAB_PLUGINS``, comma-separated module names); importing it registers
its scenario, solvers and paper. Core names none of them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

from offloadlab.core.errors import UnknownNameError
from offloadlab.core.manifest import BudgetUnit

if TYPE_CHECKING:
    from offloadlab.core.problem import Problem

ENTRY_POINT_GROUP = "offloadlab.plugins"
PLUGINS_ENV = "OFFLOADLAB_PLUGINS"
ANY_STATIC = "*"  # scenario key of solvers that work on every static problem

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Smoke:
    """How to run a solver for seconds (contract tests, examples): budget, options, and whether even that
    is slow (e.g. it loads an LLM), so the default test suite leaves it to ``-m slow``."""

    budget: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    slow: bool = False


@dataclass(frozen=True)
class SolverSpec:
    """A registered solver: ``fn(problem, instance, budget, rng, **options) -> Result``."""

    name: str
    scenario: str
    fn: Callable[..., Any]
    description: str
    budget_unit: BudgetUnit = "evaluations"
    # For generic solvers: whether the solver applies to a problem (e.g. it needs prompt templates).
    applies: Callable[[Problem], bool] | None = None
    smoke: Smoke = Smoke()
    # For solvers that play a trained file: the identity (e.g. a content hash) of the file the options
    # select, so a stored run of an older model is not taken for one of the current model.
    artefact: Callable[[Mapping[str, Any]], str | None] | None = None


_SCENARIOS: dict[str, Problem] = {}
_SOLVERS: dict[tuple[str, str], SolverSpec] = {}
_PAPERS: dict[str, Any] = {}
_loaded = False


def register_scenario(problem: Problem) -> Problem:
    """Register a Problem under its manifest's id."""
    _SCENARIOS[problem.manifest.id] = problem
    return problem


def register_solver(
    name: str,
    scenario: str = ANY_STATIC,
    description: str = "",
    budget_unit: BudgetUnit = "evaluations",
    applies: Callable[[Problem], bool] | None = None,
    smoke: Smoke | None = None,
    artefact: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> Callable[[F], F]:
    """Decorator registering a solver for one scenario, or for all static scenarios by default
    (``applies`` narrows a generic solver to the problems it can handle; ``smoke`` says how to run it
    in seconds; ``artefact`` names the trained file its options select, for the run keys)."""

    def deco(fn: F) -> F:
        doc = description or (fn.__doc__ or "").strip()
        _SOLVERS[(scenario, name)] = SolverSpec(
            name, scenario, fn, doc, budget_unit, applies, smoke or Smoke(), artefact
        )
        return fn

    return deco


def register_paper(paper: Any) -> Any:
    """Register a paper (figure specs, claims, special figures) under its scenario id."""
    _PAPERS[paper.scenario] = paper
    return paper


def plugin_modules() -> list[str]:
    """Module names of the installed plug-ins: entry points, then $OFFLOADLAB_PLUGINS."""
    names = [ep.value.split(":")[0] for ep in entry_points(group=ENTRY_POINT_GROUP)]
    names += [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
    return list(dict.fromkeys(names))


def load_plugins() -> None:
    """Import every plug-in once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in plugin_modules():
        importlib.import_module(mod)


def get_scenario(name: str) -> Problem:
    """The Problem registered under ``name``."""
    load_plugins()
    if name not in _SCENARIOS:
        raise UnknownNameError("scenario", name, list(_SCENARIOS))
    return _SCENARIOS[name]


def scenarios() -> list[str]:
    """Names of the registered scenarios."""
    load_plugins()
    return sorted(_SCENARIOS)


def solvers_for(scenario: str) -> dict[str, SolverSpec]:
    """Solvers applicable to a scenario: its own, then the generic ones for static problems."""
    problem = get_scenario(scenario)
    out = {}
    if not problem.manifest.sequential:
        out.update(
            {n: s for (sc, n), s in _SOLVERS.items() if sc == ANY_STATIC and (s.applies is None or s.applies(problem))}
        )
    out.update({n: s for (sc, n), s in _SOLVERS.items() if sc == scenario})
    return out


def get_solver(scenario: str, name: str) -> SolverSpec:
    """The solver ``name`` for ``scenario``."""
    table = solvers_for(scenario)
    if name not in table:
        raise UnknownNameError(f"solver for {scenario}", name, list(table))
    return table[name]


def papers() -> dict[str, Any]:
    """The registered papers by scenario id."""
    load_plugins()
    return dict(sorted(_PAPERS.items()))


def get_paper(scenario: str) -> Any:
    """The paper registered for ``scenario``."""
    table = papers()
    if scenario not in table:
        raise UnknownNameError("paper", scenario, list(table))
    return table[scenario]
