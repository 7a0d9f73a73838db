"""Regression tests of the core's defences: short error lines, masked secrets, paths no file system can hold,
the one non-finite guard, duplicate keys, physical bounds and learners checked against the memory limit."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from offloadlab.core.errors import MAX_MESSAGE, InputError, excerpt, mask_secrets, remember_secret
from offloadlab.core.io import loads
from offloadlab.core.registry import get_scenario
from offloadlab.core.result import Result
from offloadlab.core.run import solve
from tests.test_fuzz import cli as in_process_cli

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "offloadlab", *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2 and proc.stdout == "", proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    return lines[0]


def test_echoed_values_are_cut():
    assert len(excerpt("a" * 2**20)) < 100
    assert excerpt(list(range(10**6))) == "a list of 1000000 entries"
    err = InputError("f" * 10_000, "m" * 10**6)
    assert len(str(err)) < 2 * MAX_MESSAGE


@pytest.mark.parametrize("value", ["a" * 2**20, list(range(10**6))], ids=["1MB-string", "1e6-list"])
@pytest.mark.parametrize("field", ["N", "p_max_w"])
def test_a_huge_value_gives_a_short_error_line(tmp_path, value, field):
    doc = get_scenario("satellite-mec").make_instance(0, "default", M=1, N=1, I=1)
    doc["params"][field] = value
    (tmp_path / "i.json").write_text(json.dumps(doc))
    (tmp_path / "d.json").write_text(json.dumps({"offload": [[0]], "power_w": [[0.0]]}))
    code, out, err = in_process_cli("evaluate", tmp_path / "i.json", tmp_path / "d.json")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert len(err) < 400 and f"params.{field}" in err


def test_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("SOME_API_KEY", "abcdef123456")
    remember_secret("remembered-secret-1")
    text = mask_secrets("key abcdef123456 and remembered-secret-1, short abc")
    assert text == "key *** and ***, short abc"
    assert "abcdef" not in str(InputError("option x", "server said: abcdef123456"))


@pytest.mark.parametrize(
    "output",
    ["/etc/hostname/x.json", "/proc/self/x.json", "/tmp/" + "n" * 300 + ".json", "/tmp/" + "d/" * 2100 + "x.json"],
    ids=["under-a-file", "under-proc", "name-too-long", "path-too-long"],
)
def test_unusable_output_paths_are_one_line(output):
    line = one_line(cli("instance", "satellite-mec", "--M", "1", "--N", "1", "--I", "1", "-o", output))
    assert line.startswith("error: output: ") and len(line) < 400


def test_unusable_store_and_input_paths_are_one_line(tmp_path):
    assert one_line(cli("report", "/tmp/" + "r" * 5000)).startswith("error: ")
    assert one_line(cli("evaluate", "/tmp/" + "i" * 300, tmp_path / "d.json")).startswith("error: instance: ")


def test_a_key_twice_names_it():
    with pytest.raises(InputError, match=r"instance\.N: key appears twice"):
        loads('{"params": {"M": 1, "N": 2, "N": 3}}', "instance")


def test_non_finite_objectives_are_never_feasible():
    for objective in (math.nan, math.inf, None):
        res = Result({}, objective, True)  # type: ignore[arg-type]
        assert not res.feasible and "non_finite_objective" in res.details["violations"]
    assert Result({}, 1.5, True).feasible


def test_sagin_caching_evaluation_goes_through_the_guard(monkeypatch):
    import offloadlab.scenarios.sagin_caching.problem as sagin

    problem = get_scenario("sagin-caching")
    inst = problem.load_instance(problem.make_instance(0, "default", T=12))
    real = sagin.run

    def nan_cost(*args, **kwargs):
        rep, bad = real(*args, **kwargs)
        return {**rep, "avg_total_cost": math.nan}, bad

    monkeypatch.setattr(sagin, "run", nan_cost)
    space = problem.decision_space(inst)
    ev = problem.evaluate(inst, {f.name: np.full(f.shape, f.low)[None] for f in space.fields})
    assert not ev.feasible[0] and ev.violations[0] == ["non_finite_objective"] and ev.objective[0] == math.inf


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"f_edge_hz": 1e300}, "f_edge_hz"), ({"kappa_edge": 1.0}, "kappa_edge"), ({"beta": 1e300}, "beta")],
)
def test_dt_vehicular_overflowing_params_are_refused(overrides, field):
    with pytest.raises(InputError, match=rf"params\.{field}"):
        get_scenario("dt-vehicular").make_instance(0, "default", N=2, K=1, slots=3, **overrides)


def test_dt_vehicular_lyapunov_at_the_bounds_has_no_traceback():
    data = get_scenario("dt-vehicular").make_instance(
        0, "default", N=2, K=1, slots=3, f_edge_hz=1e15, kappa_edge=1e-20, beta=1e6, task_bytes_max=1e12
    )
    res = solve(data, "lyapunov", 0)[2]
    assert isinstance(res.feasible, bool) and (not res.feasible or math.isfinite(res.objective))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"server_ms_per_image": 1e300}, "server_ms_per_image"),
        ({"ground_rate_bps": 1e300}, "ground_rate_bps"),
        ({"latency_interval_ms": [-5.0, 20.0]}, "latency_interval_ms"),
        ({"isl_window_bits": 1e300}, "isl_window_bits"),
    ],
)
def test_leo_overflowing_params_are_refused(overrides, field):
    with pytest.raises(InputError, match=rf"params\.{field}"):
        get_scenario("leo-inference").make_instance(0, "default", satellites=2, planes=1, hours=0.05, **overrides)


def test_mec_queues_density_cannot_divide_by_zero():
    with pytest.raises(InputError, match=r"params\.density_gcycles_per_mbit"):
        get_scenario("mec-queues").make_instance(
            0, "default", devices=2, servers=1, slots=3, density_gcycles_per_mbit=1e-300
        )


def test_learner_networks_are_checked_before_allocation(monkeypatch):
    monkeypatch.setenv("OFFLOADLAB_MAX_MEMORY", "64MiB")
    sat = get_scenario("satellite-mec").make_instance(0, "default", M=1, N=2, I=1)
    with pytest.raises(InputError, match="option hidden"):
        solve(sat, "ddpg", 0, 10, hidden=[10**9])
    with pytest.raises(InputError, match=r"options hidden, batch_size, budget: training this solver needs"):
        solve(sat, "ddpg", 0, 10**8)
    with pytest.raises(InputError, match="option batch_size"):
        solve(sat, "ddpg", 0, 10, batch_size=-1, learning_starts=-1)
    dt = get_scenario("dt-vehicular").make_instance(0, "default", N=8, K=1, slots=3)
    with pytest.raises(InputError, match="training this solver needs"):
        solve(dt, "marl", 0, None, hidden=[4096] * 8, episodes=1, progress=False)


def test_a3c_rollouts_stop_at_the_budget():
    leo = get_scenario("leo-inference").make_instance(0, "default", satellites=4, planes=1, hours=0.2)
    res = solve(leo, "a3c", 0, 64, n_steps=100_000)[2]  # one update would collect more than the budget
    assert res.stats["training"]["env_steps"] == 64 and res.stats["training"]["updates"] == 0
