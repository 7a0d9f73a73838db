"""Learning baselines: short runs end in feasible, evaluated decisions."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference import learning
from offloadlab.scenarios.leo_inference.problem import PROBLEM


def test_marl_and_a3c_short_runs(small_json):
    inst = PROBLEM.load_instance(small_json)
    for fn, steps in ((learning.solve_marl, 60), (learning.solve_a3c, 256)):
        res = fn(PROBLEM, inst, steps, np.random.default_rng(0))
        assert res.feasible and res.objective <= 0.0
        assert res.stats["training_env_steps"] == steps


def test_learning_options_are_validated(small_json):
    inst = PROBLEM.load_instance(small_json)
    with pytest.raises(InputError):
        learning.solve_marl(PROBLEM, inst, 10, np.random.default_rng(0), hidden=0)
    with pytest.raises(InputError):
        learning.solve_a3c(PROBLEM, inst, 10, np.random.default_rng(0), n_envs=0)
