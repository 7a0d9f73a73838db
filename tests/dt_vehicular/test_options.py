"""Every option of the learning solvers is typed and bounded: bad values are one-line InputErrors naming the
option, before any training (issue 15)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

INSTANCE = PROBLEM.make_instance(0, "default", N=2, K=1, slots=3)
BAD = [
    ("gamma", math.nan, "finite number"),
    ("gamma", 1.5, "less than or equal to 1"),
    ("tau", 1e308, "less than or equal to 1"),
    ("tau", 0.0, "greater than 0"),
    ("episodes", -1, "greater than or equal to 1"),
    ("episodes", 2.5, "valid integer"),
    ("hidden", [-1], "greater than or equal to 1"),
    ("hidden", [], "at least 1 item"),
    ("batch_size", 0, "greater than or equal to 1"),
    ("lr_actor", -1.5, "greater than 0"),
    ("noise", -1.5, "greater than or equal to 0"),
    ("checkpoint", 5, "valid string"),
    ("progress", "yes", "valid boolean"),
]


@pytest.mark.parametrize("solver", ["marl", "sarl", "sarl-global"])
@pytest.mark.parametrize("option,value,text", BAD)
def test_bad_option_values_name_the_option(solver, option, value, text):
    if solver == "sarl-global" and option in ("lr_actor",):
        option = "learning_rate"
    with pytest.raises(InputError) as err:
        solve(INSTANCE, solver, 0, None, **{option: value})
    assert err.value.field == f"option {option}" and text in err.value.message
    assert "\n" not in str(err.value)


def test_sarl_global_algorithm_is_one_of_three():
    with pytest.raises(InputError, match="option algo"):
        solve(INSTANCE, "sarl-global", 0, None, algo="ppo")


def test_cli_gamma_nan_is_an_error_not_a_feasible_null(tmp_path):
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(INSTANCE))
    out = subprocess.run(
        [sys.executable, "-m", "offloadlab", "solve", str(inst), "--solver", "marl", "--gamma", "NaN"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: option gamma: Input should be a ")
