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
    code, _, _ = run_cli(
        ["instance", "satellite-mec", "--M", 2, "--N", 3, "--I", 2, "--seed", 7, "-o", path], capsys, monkeypatch
    )
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
    assert {
        "M",
        "N",
        "I",
        "bandwidth_hz",
        "noise_dbm",
        "p_max_w",
        "f_iot_hz",
        "f_sat_hz",
        "rho_cycles_per_bit",
        "deadline_s",
        "antenna_gain_dbi",
        "carrier_hz",
        "earth_radius_m",
        "altitude_m",
    } <= set(data["params"])
    assert len(data["elevation_deg"]) == 2 and len(data["fading_power"][0]) == 3 and len(data["data_bits"]) == 3


def test_evaluate_and_solve_contract(inst_file, tmp_path, capsys, monkeypatch):
    code, out, _ = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", LOCAL)], capsys, monkeypatch)
    ev = json.loads(out)
    assert code == 0 and set(ev) == {"feasible", "violations", "latency_s", "mean_latency_s"}
    code, out, _ = run_cli(["solve", inst_file, "--solver", "random", "--seed", 3, "--budget", 50], capsys, monkeypatch)
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
    code, out, err = run_cli(
        ["evaluate", write(tmp_path, "bad.json", bad), write(tmp_path, "d.json", LOCAL)], capsys, monkeypatch
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {field}")


@pytest.mark.parametrize(
    "decision,field",
    [
        ({"offload": LOCAL["offload"]}, "decision.power_w"),
        ({**LOCAL, "power_w": [[0, 0], [0, 0]]}, "decision.power_w"),
        ({**LOCAL, "power_w": [[0, -0.1], [0, 0], [0, 0]]}, "decision.power_w"),
        ({**LOCAL, "offload": [[0, 0, "x"], [0, 0, 0]]}, "decision.offload"),
        ([1, 2, 3], "decision"),
    ],
)
def test_malformed_decision_is_one_line_exit_2(inst_file, tmp_path, capsys, monkeypatch, decision, field):
    code, _, err = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", decision)], capsys, monkeypatch)
    assert code == 2 and err.startswith(f"error: {field}") and err.count("\n") == 1


@pytest.mark.parametrize("text", ['{"offload": ', '{"offload": [[NaN, 0, 0], [0, 0, 0]]}'])
def test_not_json_or_nan_literal(inst_file, tmp_path, capsys, monkeypatch, text):
    code, _, err = run_cli(["evaluate", inst_file, write(tmp_path, "d.json", text)], capsys, monkeypatch)
    assert code == 2 and err.startswith("error: decision") and err.count("\n") == 1


@pytest.mark.parametrize(
    "decision,violations",
    [
        ({"offload": [[1, 0, 0], [0, 0, 0]], "power_w": [[0.2, 0.1], [0, 0], [0, 0]]}, ["power_budget"]),
        (
            {"offload": [[1, 0, 0], [1, 0, 0]], "power_w": [[0.1, 0.1], [0, 0], [0, 0]]},
            ["offloaded_to_multiple_satellites"],
        ),
        ({"offload": [[1, 0, 0], [0, 0, 0]], "power_w": [[0, 0], [0, 0], [0, 0]]}, ["deadline"]),
    ],
)
def test_constraint_breaks_are_infeasible_not_errors(inst_file, tmp_path, capsys, monkeypatch, decision, violations):
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
    proc = subprocess.run(
        [sys.executable, "-m", "offloadlab", "evaluate", str(bad), str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def one_line_error(code, out, err, field):
    """Exit 2, nothing on stdout, one line on stderr starting with ``error: FIELD``."""
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith(f"error: {field}"), (code, err)
    return err


def test_output_paths_that_cannot_be_written(inst_file, tmp_path, capsys, monkeypatch):
    adir = tmp_path / "adir"
    adir.mkdir()
    afile = write(tmp_path, "afile", "x")
    for argv in (
        ["solve", inst_file, "--solver", "local", "-o", adir],
        ["instance", "satellite-mec", "-o", adir],
        ["instance", "satellite-mec", "-o", afile / "inst.json"],
    ):
        one_line_error(*run_cli(argv, capsys, monkeypatch), "output")
    code, _, _ = run_cli(["instance", "satellite-mec", "-o", tmp_path / "new" / "deep" / "i.json"], capsys, monkeypatch)
    assert code == 0 and (tmp_path / "new" / "deep" / "i.json").is_file()


def test_input_files_that_are_folders_binary_or_deep(inst_file, tmp_path, capsys, monkeypatch):
    dec = write(tmp_path, "d.json", LOCAL)
    err = one_line_error(*run_cli(["evaluate", tmp_path, dec], capsys, monkeypatch), "instance")
    assert "is a folder" in err
    binary = tmp_path / "bin.json"
    binary.write_bytes(bytes(range(256)))
    assert "not a text file" in one_line_error(*run_cli(["evaluate", binary, dec], capsys, monkeypatch), "instance")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"scenario": "caf\xe9"}')
    assert "not UTF-8" in one_line_error(*run_cli(["evaluate", latin, dec], capsys, monkeypatch), "instance")
    for depth in (40, 100_000):
        deep = write(tmp_path, "deep.json", "[" * depth + "]" * depth)
        err = one_line_error(*run_cli(["evaluate", inst_file, deep], capsys, monkeypatch), "decision")
        assert "nested deeper than 32 levels" in err
    huge = write(tmp_path, "huge.json", '{"offload": 1e999}')
    assert "overflows" in one_line_error(*run_cli(["evaluate", inst_file, huge], capsys, monkeypatch), "decision")


@pytest.mark.parametrize(
    "argv,field,words",
    [
        (["instance", "satellite-mec", "--N", "1e999"], "parameter N", "overflows"),
        (["instance", "satellite-mec", "--N", "[" * 50 + "]" * 50], "parameter N", "nested deeper"),
        (["instance", "satellite-mec", "--N", "[" * 100_000 + "]" * 100_000], "parameter N", "nested deeper"),
        (["instance", "satellite-mec", "--N", "9" * 5000], "parameter N", "cannot be read"),
        (["instance", "satellite-mec", "--seed", "99999999999999999999999"], "seed", "[0, 2**63)"),
        (["instance", "satellite-mec", "--seed", "abc"], "--seed", "valid integer"),
        (["instance", "satellite-mec", "--bogus-flag-of-typer"], "params.bogus_flag_of_typer", ""),
        (["solve", "INST", "--solver", "random", "--budget", str(10**12)], "budget", "[1, 1000000000]"),
        (["solve", "INST", "--solver", "random", "--budget", "1.5"], "--budget", "valid integer"),
        (["solve", "INST"], "--solver", "Missing option"),
        (["nosuchcommand"], "command", "No such command"),
        (["run", "SPEC", "--jobs", "0"], "jobs", "[1, 1024]"),
    ],
)
def test_command_line_mistakes_are_one_line(inst_file, tmp_path, capsys, monkeypatch, argv, field, words):
    from tests.experiments.conftest import tiny_spec

    spec = write(tmp_path, "spec.yaml", json.dumps(tiny_spec()))
    argv = [inst_file if a == "INST" else spec if a == "SPEC" else a for a in argv]
    err = one_line_error(*run_cli(argv, capsys, monkeypatch), field)
    assert words in err


@pytest.fixture
def store_dir(tmp_path, capsys, monkeypatch):
    from tests.experiments.conftest import tiny_spec

    spec = write(tmp_path, "spec.yaml", json.dumps(tiny_spec()))
    code, _, err = run_cli(["run", spec, "--out", tmp_path / "store", "--quiet"], capsys, monkeypatch)
    assert code == 0, err
    return tmp_path / "store"


def test_store_output_mistakes_are_one_line(store_dir, tmp_path, capsys, monkeypatch):
    afile = write(tmp_path, "afile", "x")
    one_line_error(*run_cli(["plot", store_dir, "--figure", "fig4", "-o", afile], capsys, monkeypatch), "output")
    one_line_error(*run_cli(["report", store_dir, "-o", store_dir], capsys, monkeypatch), "output")
    spec = write(tmp_path, "s.yaml", "name: x")
    one_line_error(*run_cli(["run", spec, "--out", afile], capsys, monkeypatch), str(spec))
    from tests.experiments.conftest import tiny_spec

    good = write(tmp_path, "good.yaml", json.dumps(tiny_spec()))
    one_line_error(*run_cli(["run", good, "--out", afile], capsys, monkeypatch), "out")
    code, out, _ = run_cli(
        ["plot", store_dir, "--figure", "fig4", "-o", tmp_path / "figs" / "new"], capsys, monkeypatch
    )
    assert code == 0 and (tmp_path / "figs" / "new").is_dir()
