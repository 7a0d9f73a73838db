"""The SB3 DDPG solver: budget, determinism, a feasible answer, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from tests.learning import assert_beats, untrained

SHORT = {"learning_starts": 50, "batch_size": 32}


@pytest.fixture(scope="module")
def data():
    return PROBLEM.make_instance(4, "default", M=3, N=5, I=4)


@pytest.fixture(scope="module")
def run(data):
    return solve(data, "ddpg", seed=3, budget=200, **SHORT)[2]


def test_ddpg_spends_the_budget_and_returns_a_feasible_decision(run):
    record = run.stats["training"]
    assert run.stats["evaluations"] == record["env_steps"] == 200
    assert record["updates"] == 150  # one per step after the 50 warm-up steps
    assert len(record["episode_returns"]) == len(record["losses"]) == 200 // 8  # episodes of 8 proposals
    assert all(loss is None for loss in record["losses"][:6]) and all(x is not None for x in record["losses"][7:])
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
    assert path.is_file() and first.stats["training"]["updates"] == 30
    resumed = solve(data, "ddpg", seed=1, budget=40, checkpoint=str(path), **SHORT)[2]
    # the reloaded model goes on from its 80 steps: no second warm-up, every step of this run updates
    assert resumed.stats["evaluations"] == 40 and resumed.stats["training"]["updates"] == 40
    bigger = PROBLEM.make_instance(4, "default", M=3, N=6, I=4)
    with pytest.raises(InputError, match="checkpoint"):
        solve(bigger, "ddpg", seed=1, budget=10, checkpoint=str(path), **SHORT)


def learns() -> None:
    """Trained DDPG's best proposal beats that of the same search with its actor and critic frozen."""
    data = PROBLEM.make_instance(4, "default", M=2, N=4, I=2)
    options = {"learning_rate": 1e-3, "learning_starts": 50, "batch_size": 32}  # faster than the paper's 1e-5

    def run():
        return solve(data, "ddpg", seed=0, budget=200, **options)[2]

    trained, frozen = run(), untrained(run)
    # seen: 0.546 s trained against 0.573 s frozen (mean latency)
    assert_beats(trained.objective, frozen.objective, 0.01, "ddpg")


def test_ddpg_beats_its_untrained_self():
    learns()
