"""Registry of scenarios and solvers; third-party packages can add both through entry points."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Callable

from offloadlab.core.errors import UnknownNameError

# Modules that register the built-in scenarios and solvers when imported.
BUILTIN_MODULES = (
    "offloadlab.scenarios.satellite_mec",
    "offloadlab.scenarios.sagin_caching",
    "offloadlab.scenarios.dt_vehicular",
    "offloadlab.solvers",
)
ENTRY_POINT_GROUP = "offloadlab.plugins"

_SCENARIOS: dict[str, Any] = {}
_SOLVERS: dict[tuple[str, str], "SolverSpec"] = {}
_loaded = False

ANY_STATIC = "*"  # scenario key of solvers that work on every static problem


@dataclass(frozen=True)
class SolverSpec:
    """A registered solver: ``fn(problem, instance, budget, rng, **options) -> Result``."""

    name: str
    scenario: str
    fn: Callable[..., Any]
    description: str


def register_scenario(problem: Any) -> Any:
    """Register a Problem instance under its id."""
    _SCENARIOS[problem.id] = problem
    return problem


def register_solver(name: str, scenario: str = ANY_STATIC, description: str = "") -> Callable:
    """Decorator registering a solver for one scenario, or for all static scenarios by default."""

    def deco(fn: Callable) -> Callable:
        _SOLVERS[(scenario, name)] = SolverSpec(name, scenario, fn, description or (fn.__doc__ or "").strip())
        return fn

    return deco


def load_plugins() -> None:
    """Import built-in modules and entry-point plugins once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in BUILTIN_MODULES:
        importlib.import_module(mod)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        ep.load()


def get_scenario(name: str) -> Any:
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
    load_plugins()
    problem = get_scenario(scenario)
    out = {}
    if not problem.sequential:
        out.update({n: s for (sc, n), s in _SOLVERS.items() if sc == ANY_STATIC})
    out.update({n: s for (sc, n), s in _SOLVERS.items() if sc == scenario})
    return out


def get_solver(scenario: str, name: str) -> SolverSpec:
    """The solver ``name`` for ``scenario``."""
    table = solvers_for(scenario)
    if name not in table:
        raise UnknownNameError(f"solver for {scenario}", name, list(table))
    return table[name]
