"""The Problem contract, checked for every registered scenario and every solver registered for it:
instances round-trip through JSON, generation is deterministic by seed, malformed instances raise the
input error, envs pass Gymnasium's/PettingZoo's checkers, and every solver returns a valid Result."""

from __future__ import annotations

import json
import math
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from offloadlab.core.envs import make_parallel_env
from offloadlab.core.errors import InputError
from offloadlab.core.problem import Problem
from offloadlab.core.registry import get_scenario, scenarios, solvers_for
from offloadlab.core.result import Result
from offloadlab.core.run import solve

SCENARIOS = scenarios()


def small_instance(problem: Problem, seed: int = 0) -> dict[str, Any]:
    """The manifest's small instance, as JSON data."""
    return problem.make_instance(seed, "default", **problem.manifest.small)


def first_decision(problem: Problem, instance: Any) -> dict[str, np.ndarray]:
    """A batch of one decision from the decision space (the lower bounds: always well-formed)."""
    space = problem.decision_space(instance)
    return {f.name: np.full((1, *f.shape), f.low, dtype=float) for f in space.fields}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_manifest_is_complete(scenario):
    m = get_scenario(scenario).manifest
    assert m.id == scenario and m.paper and m.seed and m.presets
    assert m.objective.name and m.objective.direction in ("min", "max")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_instance_round_trips_through_json_and_is_deterministic(scenario):
    problem = get_scenario(scenario)
    data = small_instance(problem)
    assert data["scenario"] == scenario
    text = json.dumps(data, allow_nan=False)
    assert json.dumps(small_instance(problem), allow_nan=False) == text  # same seed, same instance
    inst_a, inst_b = problem.load_instance(data), problem.load_instance(json.loads(text))
    decision = first_decision(problem, inst_a)
    ev_a, ev_b = problem.evaluate(inst_a, decision), problem.evaluate(inst_b, decision)
    assert ev_a.objective.shape == ev_a.feasible.shape == (1,) and len(ev_a.violations) == 1
    assert np.array_equal(ev_a.objective, ev_b.objective) and np.array_equal(ev_a.feasible, ev_b.feasible)
    assert not ev_a.feasible[0] or math.isfinite(ev_a.objective[0])  # a non-finite objective is never feasible
    json.dumps(ev_a.report(0), allow_nan=False)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_malformed_instances_raise_the_input_error(scenario):
    problem = get_scenario(scenario)
    data = small_instance(problem)
    broken = [
        [],
        {**data, "scenario": "elsewhere"},
        {k: v for k, v in data.items() if k != "params"},
        {**data, "params": {k: v for i, (k, v) in enumerate(data["params"].items()) if i}},
    ]
    for bad in broken:
        with pytest.raises(InputError):
            problem.load_instance(bad)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_envs_pass_the_checkers(scenario):
    from pettingzoo.test import parallel_api_test

    problem = get_scenario(scenario)
    data = small_instance(problem)
    for env_id in problem.manifest.gym_ids:
        env = gymnasium.make(env_id, instance=data)
        check_env(env.unwrapped, skip_render_check=True)
    for env_id in problem.manifest.parallel_env_ids:
        env = make_parallel_env(env_id, instance=data)
        env.reset(seed=0)
        assert env.agents, f"{env_id}: the small instance leaves no agent to act, so the checker would test nothing"
        parallel_api_test(make_parallel_env(env_id, instance=data), num_cycles=5)


CASES = [
    pytest.param(sc, name, id=f"{sc}/{name}", marks=[pytest.mark.slow] if spec.smoke.slow else [])
    for sc in SCENARIOS
    for name, spec in sorted(solvers_for(sc).items())
]


@pytest.mark.parametrize("scenario,solver", CASES)
def test_every_solver_returns_a_valid_result(scenario, solver):
    problem = get_scenario(scenario)
    spec = solvers_for(scenario)[solver]
    data = small_instance(problem)
    _, inst, res = solve(data, solver, 0, spec.smoke.budget, **spec.smoke.options)
    assert isinstance(res, Result)
    out = res.to_json()
    json.dumps(out, allow_nan=False)
    if res.feasible:
        assert math.isfinite(res.objective)
    if not problem.manifest.sequential:  # a static solver's decision evaluates to its reported objective
        space = problem.decision_space(inst)
        decision = space.validate(out["decision"])
        ev = problem.evaluate(inst, {k: np.asarray(v)[None] for k, v in decision.items()})
        assert bool(ev.feasible[0]) == res.feasible
        if res.feasible:
            assert ev.objective[0] == pytest.approx(res.objective, rel=1e-9)
