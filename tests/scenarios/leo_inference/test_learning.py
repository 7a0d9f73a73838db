"""Learning baselines: short runs end in feasible, evaluated decisions; trained learners beat their untrained
selves (a no-op optimiser step fails this)."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.methods.leo_inference import learning
from offloadlab.scenarios.leo_inference.problem import PROBLEM


def test_marl_and_a3c_short_runs(small_json):
    inst = PROBLEM.load_instance(small_json)
    for fn, steps in ((learning.solve_marl, 60), (learning.solve_a3c, 60)):
        res = fn(PROBLEM, inst, steps, np.random.default_rng(0))
        assert res.feasible and res.objective <= 0.0
        assert res.stats["training_env_steps"] == steps
        assert res.stats["updates"] >= 3  # updated within the first episode (about 180 rounds)


@pytest.mark.parametrize("fn", [learning.solve_marl, learning.solve_a3c])
def test_trained_learner_beats_its_untrained_self(small_json, fn):
    inst = PROBLEM.load_instance(small_json)
    # same seed, so the same initial actors: budget 1 makes no update, the greedy episode is the untrained policy
    untrained = fn(PROBLEM, inst, 1, np.random.default_rng(0))
    short = fn(PROBLEM, inst, 100, np.random.default_rng(0))
    trained = fn(PROBLEM, inst, 500, np.random.default_rng(0))
    assert untrained.stats["updates"] == 0 and trained.stats["updates"] > short.stats["updates"] > 0
    assert -untrained.objective < -short.objective <= -trained.objective
    assert -trained.objective > 1.2 * -untrained.objective


@pytest.mark.parametrize(
    ("fn", "name", "value"),
    [
        (learning.solve_marl, "hidden", 0),
        (learning.solve_marl, "hidden", 10**30),
        (learning.solve_marl, "threads", 65),
        (learning.solve_marl, "learning_rate", 0.0),
        (learning.solve_a3c, "n_steps", 0),
        (learning.solve_a3c, "gamma", 1.5),
        (learning.solve_a3c, "threads", 10**30),
    ],
)
def test_learning_options_are_validated(fn, name, value):
    with pytest.raises(InputError, match=f"option {name}"):
        validate_options(fn, fn.__name__, {name: value})
