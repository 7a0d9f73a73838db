"""The CLI: JSON contracts, and bad input as one clear line with exit code 2."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from offloadlab.cli import main


def run_cli(argv, capsys, monkeypatch):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["offloadlab", *map(str, argv)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def inst_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "inst.json"
    code, _, _ = run_cli(["instance", "satellite-mec", "--M", 2, "--N", 3, "--I", 2, "--seed", 7, "-o", path],
                         capsys, monkeypatch)
    assert code == 0
    return path


def write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path


LOCAL = {"offload": [[0, 0, 0], [0, 0, 0]], "power_w": [[0, 0], [0, 0], [0, 0]]}


def test_instance_contract(inst_file):
    data = json.loads(inst_file.read_text())
    assert data["scenario"] == "satellite-mec"
    assert {"M", "N", "I", "bandwidth_hz", "noise_dbm", "p_max_w", "f_iot_hz", "f_sat_hz", "rho_cycles_per_bit",
            "deadline_s", "antenna_gain_dbi", "carrier_hz", "earth_radius_m", "altitude_m"} <= set(data["params"])
    assert len(data["elevation_deg"]) == 2 and len(data["fading_power"][0]) == 3 and len(data["data_bits"]) == 3


def test_evaluate_and_solve_contract(inst_file, tmp_path, capsys, monkeypatch):
    code, out, _ = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", LOCAL)], capsys, monkeypatch)
    ev = json.loads(out)
    assert code == 0 and set(ev) == {"feasible", "violations", "latency_s", "mean_latency_s"}
    code, out, _ = run_cli(["solve", inst_file, "--solver", "random", "--seed", 3, "--budget", 50],
                           capsys, monkeypatch)
    res = json.loads(out)
    assert code == 0 and {"offload", "power_w", "mean_latency_s", "feasible", "stats"} <= set(res)
    assert res["stats"]["evaluations"] == 50 and res["stats"]["seconds"] >= 0


def test_same_seed_same_instance(tmp_path, capsys, monkeypatch):
    outs = [run_cli(["instance", "satellite-mec", "--seed", 11], capsys, monkeypatch)[1] for _ in range(2)]
    assert outs[0] == outs[1]


def _mutations():
    def drop(d):
        del d["data_bits"]

    def setp(key, value):
        return lambda d: d["params"].__setitem__(key, value)

    def seti(key, idx, value):
        return lambda d: d[key].__setitem__(idx, value)

    return [
        (drop, "data_bits"),
        (lambda d: d.__setitem__("data_bits", [1e6, 2e6]), "data_bits"),
        (seti("data_bits", 0, "abc"), "data_bits"),
        (seti("data_bits", 0, -5), "data_bits"),
        (setp("p_max_w", -1), "params.p_max_w"),
        (setp("bandwidth_hz", 0), "params.bandwidth_hz"),
        (setp("noise_dbm", "loud"), "params.noise_dbm"),
        (seti("elevation_deg", 0, 95), "elevation_deg"),
        (seti("elevation_deg", 1, -3), "elevation_deg"),
        (setp("bogus", 1), "params.bogus"),
        (lambda d: d["fading_power"][0][0].__setitem__(0, None), "fading_power"),
    ]


@pytest.mark.parametrize("mutate,field", _mutations())
def test_malformed_instance_is_one_line_exit_2(inst_file, tmp_path, capsys, monkeypatch, mutate, field):
    data = json.loads(inst_file.read_text())
    bad = copy.deepcopy(data)
    mutate(bad)
    code, out, err = run_cli(["evaluate", write(tmp_path, "bad.json", bad), write(tmp_path, "d.json", LOCAL)],
                             capsys, monkeypatch)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {field}")


@pytest.mark.parametrize("decision,field", [
    ({"offload": LOCAL["offload"]}, "decision.power_w"),
    ({**LOCAL, "power_w": [[0, 0], [0, 0]]}, "decision.power_w"),
    ({**LOCAL, "power_w": [[0, -0.1], [0, 0], [0, 0]]}, "decision.power_w"),
    ({**LOCAL, "offload": [[0, 0, "x"], [0, 0, 0]]}, "decision.offload"),
    ([1, 2, 3], "decision"),
])
def test_malformed_decision_is_one_line_exit_2(inst_file, tmp_path, capsys, monkeypatch, decision, field):
    code, _, err = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", decision)], capsys, monkeypatch)
    assert code == 2 and err.startswith(f"error: {field}") and err.count("\n") == 1


@pytest.mark.parametrize("text", ["{\"offload\": ", "{\"offload\": [[NaN, 0, 0], [0, 0, 0]]}"])
def test_not_json_or_nan_literal(inst_file, tmp_path, capsys, monkeypatch, text):
    code, _, err = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", text)], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: decision") and err.count("\n") == 1


@pytest.mark.parametrize("decision,violations", [
    ({"offload": [[1, 0, 0], [0, 0, 0]], "power_w": [[0.2, 0.1], [0, 0], [0, 0]]}, ["power_budget"]),
    ({"offload": [[1, 0, 0], [1, 0, 0]], "power_w": [[0.1, 0.1], [0, 0], [0, 0]]},
     ["offloaded_to_multiple_satellites"]),
    ({"offload": [[1, 0, 0], [0, 0, 0]], "power_w": [[0, 0], [0, 0], [0, 0]]}, ["deadline"]),
])
def test_constraint_breaks_are_infeasible_not_errors(inst_file, tmp_path, capsys, monkeypatch, decision,
                                                     violations):
    code, out, _ = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", decision)], capsys, monkeypatch)
    ev = json.loads(out)
    assert code == 0 and ev["feasible"] is False and ev["violations"] == violations


def test_unknown_solver_and_option(inst_file, capsys, monkeypatch):
    code, _, err = run_cli(["solve", inst_file, "--solver", "nope"], capsys, monkeypatch)
    assert code == 2 and "unknown solver" in err and "reference" in err
    code, _, err = run_cli(["solve", inst_file, "--solver", "reference", "--bogus", 1], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: option bogus")


def test_missing_file_and_unknown_scenario(tmp_path, capsys, monkeypatch):
    code, _, err = run_cli(["evaluate", tmp_path / "none.json", tmp_path / "d.json"], capsys, monkeypatch)
    assert code == 2 and "not found" in err
    code, _, err = run_cli(["instance", "nope"], capsys, monkeypatch)
    assert code == 2 and "unknown scenario" in err


def test_console_script_has_no_traceback(tmp_path):
    bad = write(tmp_path, "bad.json", "[")
    proc = subprocess.run([sys.executable, "-m", "offloadlab", "evaluate", str(bad), str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
