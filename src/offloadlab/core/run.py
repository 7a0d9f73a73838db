"""Running one solver on one instance: the single code path used by the CLI and the experiment runner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.core.registry import get_scenario, get_solver
from offloadlab.core.result import Result


def check_options(scenario: str, solver: str, options: Mapping[str, Any]) -> None:
    """Reject options the solver does not take, of the wrong type or out of bounds, naming the option."""
    validate_options(get_solver(scenario, solver).fn, solver, options)


def solve(
    instance_data: Mapping[str, Any], solver: str, seed: int = 0, budget: int | None = None, **options: Any
) -> tuple[Any, Any, Result]:
    """Validate the instance, run the solver with a seeded generator and return (problem, instance, result)."""
    scenario = instance_data.get("scenario") if isinstance(instance_data, Mapping) else None
    if not isinstance(scenario, str):
        raise InputError("scenario", "missing: the instance must name its scenario")
    problem = get_scenario(scenario)
    instance = problem.load_instance(instance_data)
    if budget is not None and budget < 1:
        raise InputError("budget", f"value {budget} outside the allowed range [1, inf)")
    if seed < 0:
        raise InputError("seed", f"value {seed} outside the allowed range [0, inf)")
    check_options(scenario, solver, options)
    spec = get_solver(scenario, solver)
    result = spec.fn(problem, instance, budget, np.random.default_rng(seed), **options)
    return problem, instance, result
