"""Learning baselines: short runs end in feasible, evaluated decisions."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.methods.leo_inference import learning
from offloadlab.scenarios.leo_inference.problem import PROBLEM


def test_marl_and_a3c_short_runs(small_json):
    inst = PROBLEM.load_instance(small_json)
    for fn, steps in ((learning.solve_marl, 60), (learning.solve_a3c, 256)):
        res = fn(PROBLEM, inst, steps, np.random.default_rng(0))
        assert res.feasible and res.objective <= 0.0
        assert res.stats["training_env_steps"] == steps


@pytest.mark.parametrize(
    ("fn", "name", "value"),
    [
        (learning.solve_marl, "hidden", 0),
        (learning.solve_marl, "hidden", 10**30),
        (learning.solve_marl, "threads", 65),
        (learning.solve_marl, "learning_rate", 0.0),
        (learning.solve_a3c, "n_envs", 0),
        (learning.solve_a3c, "threads", 10**30),
    ],
)
def test_learning_options_are_validated(fn, name, value):
    with pytest.raises(InputError, match=f"option {name}"):
        validate_options(fn, fn.__name__, {name: value})
