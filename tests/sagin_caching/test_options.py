"""Every sagin-caching solver option is typed and bounded: a bad value is one line naming the option
(InputError in Python, exit 2 from the CLI), checked before any work starts."""

from __future__ import annotations

import json

import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import check_options, solve
from offloadlab.experiments.spec import check_registered, parse_spec
from offloadlab.scenarios.sagin_caching.problem import PROBLEM
from tests.test_cli import run_cli

BAD = [
    ("laot", {"relay": "moon"}, "option relay"),
    ("laot", {"relay": 1}, "option relay"),
    ("cloud", {"policy": "laot"}, "option policy"),  # not an option of a caching solver
    ("spa", {"policy": "random"}, "option policy"),
    ("msb-optimal", {"relay": None}, "option relay"),
    ("dqmsb", {"timesteps": 0}, "option timesteps"),
    ("dqmsb", {"timesteps": -1}, "option timesteps"),
    ("dqmsb", {"timesteps": 2.5}, "option timesteps"),
    ("dqmsb", {"timesteps": "many"}, "option timesteps"),
    ("dqmsb", {"timesteps": 10**9}, "option timesteps"),
    ("dqmsb", {"gamma": -0.1}, "option gamma"),
    ("dqmsb", {"gamma": 1.5}, "option gamma"),
    ("dqmsb", {"gamma": float("nan")}, "option gamma"),
    ("dqmsb", {"learning_rate": 0.0}, "option learning_rate"),
    ("dqmsb", {"learning_rate": float("inf")}, "option learning_rate"),
    ("dqmsb", {"checkpoint": ""}, "option checkpoint"),
    ("dqmsb", {"checkpoint": 5}, "option checkpoint"),
    ("dqmsb", {"progress": "yes"}, "option progress"),
]


@pytest.mark.parametrize(
    "solver, options, field", BAD, ids=[f"{s}-{next(iter(o))}-{i}" for i, (s, o, _) in enumerate(BAD)]
)
def test_bad_option_is_one_line_naming_it(solver, options, field):
    with pytest.raises(InputError) as err:
        check_options("sagin-caching", solver, options)
    msg = str(err.value)
    assert msg.startswith(field) and "\n" not in msg


def test_good_options_pass_and_budget_is_bounded():
    check_options(
        "sagin-caching",
        "dqmsb",
        {
            "timesteps": 10,
            "gamma": 0.99,
            "learning_rate": 1e-4,
            "checkpoint": "ck",
            "progress": False,
            "relay": "satellite",
        },
    )
    data = PROBLEM.make_instance(0, "default", T=5, num_bs=2, num_services=3, market_train_episodes=1)
    with pytest.raises(InputError, match="^budget"):
        solve(data, "dqmsb", 0, 10**8, progress=False)


def test_spec_with_a_bad_option_is_rejected_before_running():
    raw = {
        "name": "bad",
        "scenario": "sagin-caching",
        "seeds": 1,
        "solvers": [{"name": "dqmsb", "options": {"gamma": 2.0}}],
    }
    with pytest.raises(InputError) as err:
        check_registered(parse_spec(raw))
    assert "gamma" in str(err.value) and "\n" not in str(err.value)


def test_cli_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    inst = tmp_path / "i.json"
    inst.write_text(json.dumps(PROBLEM.make_instance(0, "default", T=5)))
    code, _, err = run_cli(["solve", inst, "--solver", "dqmsb", "--gamma", "-1"], capsys, monkeypatch)
    assert code == 2 and err.strip().count("\n") == 0 and "gamma" in err
