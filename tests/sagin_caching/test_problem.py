"""The scenario through the core protocol and the CLI: instances, every solver, evaluate replaying
solver decisions, seeds, DQMSB checkpoints, and bad configurations as one clear line."""

from __future__ import annotations

import json

import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.scenarios.sagin_caching.problem import PROBLEM
from tests.test_cli import run_cli

SMALL = {"T": 20, "num_bs": 3, "num_services": 6, "num_gpus": 8, "market_train_episodes": 2}


@pytest.fixture(scope="module")
def small():
    return PROBLEM.make_instance(4, "default", **SMALL)


@pytest.mark.parametrize("solver", ["laot", "fifo", "lfu", "cloud", "spa", "msb-myopic", "msb-optimal"])
def test_evaluate_replays_every_solver(small, solver):
    _, inst, res = solve(small, solver, seed=1)
    again = PROBLEM.evaluate(inst, {k: v[None] for k, v in res.decision.items()})
    assert res.feasible and again.feasible[0]
    assert res.objective == pytest.approx(float(again.objective[0]))
    assert res.details["total_surplus"] == pytest.approx(float(again.details["total_surplus"][0]))
    if "mechanism" in res.details:  # the stored rho reproduces the mechanism's own allocation
        assert res.details["mechanism"]["total_surplus"] == pytest.approx(res.details["total_surplus"])
    terms = ["switching_cost", "transmission_cost", "computation_cost", "accuracy_cost", "cloud_cost"]
    assert res.objective == pytest.approx(sum(res.details[k] for k in terms))
    assert res.details["decisions"]["policy"] in ("laot", "fifo", "lfu", "cloud")


def test_same_seed_same_result(small):
    a = solve(small, "msb-optimal", seed=3)[2]
    b = solve(json.loads(json.dumps(small)), "msb-optimal", seed=3)[2]
    assert a.to_json()["details"] == b.to_json()["details"]


def test_satellite_relay_is_cheaper_for_cloud_only(small):
    ground = solve(small, "cloud", seed=0, relay="ground")[2]
    sat = solve(small, "cloud", seed=0, relay="satellite")[2]
    assert sat.details["cloud_cost"] < ground.details["cloud_cost"]
    assert sat.details["switching_cost"] == sat.details["accuracy_cost"] == 0.0


def test_dqmsb_trains_saves_and_reloads(small, tmp_path):
    ck = tmp_path / "auctioneer"
    first = solve(small, "dqmsb", seed=0, timesteps=400, checkpoint=str(ck), progress=False)[2]
    assert (tmp_path / "auctioneer.zip").exists()
    record = first.stats["training"]
    assert record["env_steps"] == 400 and len(record["episode_returns"]) == 400 // SMALL["T"]
    assert record["updates"] > 0 and len(record["losses"]) == len(record["episode_returns"])
    again = solve(small, "dqmsb", seed=5, timesteps=400, checkpoint=str(ck), progress=False)[2]
    assert again.stats["loaded_checkpoint"] == str(ck) + ".zip" and again.stats["training"]["episode_returns"] == []
    assert list(again.decision["rho"]) == pytest.approx(list(first.decision["rho"]))
    assert 1.0 <= min(first.decision["rho"]) and max(first.decision["rho"]) < 10.0


@pytest.mark.parametrize(
    "arg, value, field",
    [
        ("num_gpus", 0, "params.num_gpus"),
        ("gpu_memory_gb", -80, "params.gpu_memory_gb"),
        ("gpu_power_w", -1, "params.gpu_power_w"),
        ("arrival_per_user", -0.1, "params.arrival_per_user"),
        ("vanishing_factor", 0, "params.vanishing_factor"),
        ("vanishing_factor", 1.0, "params.vanishing_factor"),
        ("vanishing_factor", 1.5, "params.vanishing_factor"),
    ],
)
def test_bad_config_is_one_line_naming_the_field(arg, value, field, capsys, monkeypatch):
    code, out, err = run_cli(["instance", "sagin-caching", f"--{arg}", value], capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {field}:")


def test_bad_instance_and_options(small):
    with pytest.raises(InputError, match="params.num_bs"):
        PROBLEM.load_instance({**small, "params": {**small["params"], "num_bs": -1}})
    with pytest.raises(InputError, match="seed"):
        PROBLEM.load_instance({**small, "seed": -3})
    with pytest.raises(InputError, match="option relay"):
        solve(small, "laot", relay="moon")
    with pytest.raises(InputError, match="option policy"):
        solve(small, "spa", policy="lru")


def test_cli_solve_and_evaluate(tmp_path, capsys, monkeypatch):
    inst, dec = tmp_path / "inst.json", tmp_path / "dec.json"
    args = [f"--{k}={v}" for k, v in SMALL.items()]
    assert run_cli(["instance", "sagin-caching", "--seed", 2, *args, "-o", inst], capsys, monkeypatch)[0] == 0
    code, out, _ = run_cli(["solve", inst, "--solver", "laot", "-o", dec], capsys, monkeypatch)
    solved = json.loads(out)
    assert code == 0 and solved["decisions"]["policy"] == "laot"
    code, out, _ = run_cli(["evaluate", inst, dec], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["avg_total_cost"] == pytest.approx(solved["objective"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**json.loads(dec.read_text()), "policy": 7}))
    code, _, err = run_cli(["evaluate", inst, bad], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: decision.policy:")
