"""Solvers of dt-vehicular: each runs a per-slot policy through the instance's episode.

Registered here: ``local``, ``random`` and ``lyapunov``; the learning methods register from their
own modules (``marl``, ``sarl``, ``llm-icl``), imported at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result
from offloadlab.methods.dt_vehicular.lyapunov import solve_slot
from offloadlab.methods.dt_vehicular.results import run_and_report
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode, SlotState


@register_solver("local", SCENARIO_ID, "every task computed on its vehicle (omega = 0, alpha = 0)", budget_unit="none")
def solve_local(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """All-local baseline."""
    zeros = np.zeros((instance.params.N, instance.params.K))
    return run_and_report(instance, lambda s: (zeros, zeros), budget)


@register_solver(
    "random", SCENARIO_ID, "uniform random omega and alpha every slot, scaled to the capacity", budget_unit="none"
)
def solve_random(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """Random baseline: a fresh uniform decision per slot, projected onto the constraints."""
    shape = (instance.params.N, instance.params.K)
    return run_and_report(instance, lambda s: (rng.uniform(size=shape), rng.uniform(size=shape)), budget)


@register_solver(
    "lyapunov",
    SCENARIO_ID,
    "drift-plus-penalty: P2 (eq. 24) solved each slot by Lagrangian relaxation with a certified gap",
    budget_unit="none",
)
def solve_lyapunov(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """Minimise P2 exactly (up to the reported duality gap) in every slot, given the current queues."""
    gaps: list[float] = []

    def policy(s: SlotState) -> tuple[np.ndarray, np.ndarray]:
        sol = solve_slot(instance.params, s.rate_bps, s.task_bytes, s.queue)
        gaps.append(sol.gap)
        return sol.omega, sol.alpha

    res = run_and_report(instance, policy, budget)
    res.stats.update(max_duality_gap=float(max(gaps)), mean_duality_gap=float(np.mean(gaps)))
    return res


# importing the learning methods registers their solvers
import offloadlab.methods.dt_vehicular.icl  # noqa: E402,F401
import offloadlab.methods.dt_vehicular.marl  # noqa: E402,F401
import offloadlab.methods.dt_vehicular.sarl  # noqa: E402,F401
import offloadlab.methods.dt_vehicular.sarl_global  # noqa: E402,F401
