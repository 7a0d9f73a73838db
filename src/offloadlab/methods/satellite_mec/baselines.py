"""Solvers specific to satellite-mec: all-local (PAL), the reference local search, exhaustive."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.methods.satellite_mec.reference import exhaustive_search, reference_search
from offloadlab.methods.satellite_mec.scale_reference import scale_reference
from offloadlab.scenarios.satellite_mec.model import SCENARIO_ID, SatMecInstance
from offloadlab.scenarios.satellite_mec.sparse import SparseInstance
from offloadlab.scenarios.satellite_mec.sparse_ops import dense_only
from offloadlab.solvers.common import finish

# a grid of P_IoT / levels steps; finer grids are coarsened to MAX_PATTERNS patterns anyway
PowerLevels = Annotated[int, Field(ge=1, le=64, description="power grid steps per terminal (P_IoT / levels)")]
Restarts = Annotated[int, Field(ge=0, le=10_000, description="local-search starts (greedy + random)")]
Kicks = Annotated[int, Field(ge=0, le=10_000, description="perturbation rounds per start (default 2 N)")]


@register_solver("local", SCENARIO_ID, "processing all locally (PAL): every variable zero", budget_unit="none")
def solve_local(problem: Any, instance: SatMecInstance, budget: int | None, rng: np.random.Generator) -> Result:
    """Every terminal computes its own task; no power, no satellite CPU."""
    tracker = Tracker(budget)
    decision = problem.local_decision(instance)
    res = finish(problem, instance, decision, tracker)
    tracker.record(1, res.objective)
    res.history, res.stats = tracker.history, tracker.stats()
    return res


@register_solver(
    "reference",
    SCENARIO_ID,
    "local search over (target, power pattern) per terminal with restarts + power refinement; "
    "constellation-scale instances: damped best response over (satellite, sub-channel)",
    smoke=Smoke(budget=500),
)
def solve_reference(
    problem: Any,
    instance: SatMecInstance,
    budget: int | None,
    rng: np.random.Generator,
    restarts: Restarts = 4,
    kicks: Kicks | None = None,
    power_levels: PowerLevels = 4,
    refine: Annotated[bool, Field(description="refine the powers continuously after the grid search")] = True,
) -> Result:
    """The strongest non-LLM method here; gives every other method an optimality gap. On a sparse instance
    the scalable best response of ``scale_reference`` runs instead (the dense options do not apply)."""
    tracker = Tracker(budget)
    if isinstance(instance, SparseInstance):
        decision, rounds = scale_reference(instance, rng, tracker)
        return finish(problem, instance, decision, tracker, rounds=rounds)
    alpha, pw = reference_search(
        instance, rng, tracker, restarts=restarts, kicks=kicks, power_levels=power_levels, refine=refine
    )
    return finish(problem, instance, {"offload": alpha, "power_w": pw}, tracker)


@register_solver(
    "exhaustive", SCENARIO_ID, "enumerate every option on a power grid (tiny instances only)", budget_unit="none"
)
def solve_exhaustive(
    problem: Any, instance: SatMecInstance, budget: int | None, rng: np.random.Generator, power_levels: PowerLevels = 2
) -> Result:
    """Exact optimum over the discretised decision grid."""
    dense_only(instance, "exhaustive")
    tracker = Tracker(None)
    alpha, pw = exhaustive_search(instance, tracker, power_levels=power_levels)
    return finish(problem, instance, {"offload": alpha, "power_w": pw}, tracker)
