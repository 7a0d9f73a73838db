"""The SB3 DDPG solver: budget, determinism, a feasible answer, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

SHORT = {"learning_starts": 50, "batch_size": 32}


@pytest.fixture(scope="module")
def data():
    return PROBLEM.make_instance(4, "default", M=3, N=5, I=4)


@pytest.fixture(scope="module")
def run(data):
    return solve(data, "ddpg", seed=3, budget=200, **SHORT)[2]


def test_ddpg_spends_the_budget_and_returns_a_feasible_decision(run):
    assert run.stats["evaluations"] == run.stats["env_steps"] == 200
    assert run.stats["policy_updates"] == 150
    assert run.feasible and np.isfinite(run.objective)
    evals = [h.evaluations for h in run.history]
    best = [h.best_objective for h in run.history]
    assert evals == sorted(evals) and evals[-1] == 200
    assert all(b2 <= b1 for b1, b2 in zip(best, best[1:])) and best[-1] == pytest.approx(run.objective)


def test_ddpg_is_deterministic_for_a_seed(data, run):
    again = solve(data, "ddpg", seed=3, budget=200, **SHORT)[2]
    assert again.objective == run.objective
    np.testing.assert_array_equal(again.decision["power_w"], run.decision["power_w"])


def test_ddpg_checkpoint_saves_and_resumes(data, tmp_path):
    path = tmp_path / "policy.zip"
    first = solve(data, "ddpg", seed=1, budget=80, checkpoint=str(path), **SHORT)[2]
    assert path.is_file() and first.stats["policy_updates"] == 30
    resumed = solve(data, "ddpg", seed=1, budget=40, checkpoint=str(path), **SHORT)[2]
    # the reloaded model goes on from its 80 steps: no second warm-up, updates counted in total
    assert resumed.stats["evaluations"] == 40 and resumed.stats["policy_updates"] == 30 + 40
    bigger = PROBLEM.make_instance(4, "default", M=3, N=6, I=4)
    with pytest.raises(InputError, match="checkpoint"):
        solve(bigger, "ddpg", seed=1, budget=10, checkpoint=str(path), **SHORT)
