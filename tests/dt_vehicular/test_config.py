"""Bad configurations get one clear error naming the field."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from offloadlab.core.errors import InputError
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

BAD = [
    ({"speed_min_mps": -1.0}, "params.speed_min_mps", "greater than or equal to 0"),
    ({"delta_f": 1.0}, "params.delta_f", "less than 1"),
    ({"delta_f": -1.0}, "params.delta_f", "greater than -1"),
    ({"n_edge_cores": 0}, "params.n_edge_cores", "greater than or equal to 1"),
    ({"N": 0}, "params.N", "greater than or equal to 1"),
    ({"speed_max_mps": 5.0}, "params", "speed_max_mps (5) must be >= speed_min_mps (10)"),
    ({"capacity_basis": "both"}, "params.capacity_basis", "'real' or 'nominal'"),
    ({"lanes": 3}, "params.lanes", "unknown field"),
]


@pytest.mark.parametrize("over,field,text", BAD)
def test_bad_params_name_the_field(over, field, text):
    with pytest.raises(InputError) as err:
        PROBLEM.make_instance(0, "default", **over)
    assert err.value.field == field and text in err.value.message


def test_bad_instance_json():
    good = PROBLEM.make_instance(0)
    with pytest.raises(InputError, match="seed"):
        PROBLEM.load_instance({**good, "seed": -3})
    with pytest.raises(InputError, match="params.f_edge_hz"):
        PROBLEM.load_instance({**good, "params": {**good["params"], "f_edge_hz": 0}})
    missing = {k: v for k, v in good["params"].items() if k != "energy_weight"}
    with pytest.raises(InputError, match="params.energy_weight: missing"):
        PROBLEM.load_instance({**good, "params": missing})


def test_cli_prints_one_line_and_exits_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "offloadlab", "instance", "dt-vehicular", "--speed-min-mps", "-3"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: params.speed_min_mps: Input should be greater than or equal to 0 (got -3)"
    ]


def test_cli_instance_evaluate_solve(tmp_path):
    inst, dec = tmp_path / "inst.json", tmp_path / "dec.json"
    from typer.testing import CliRunner

    from offloadlab.cli import app

    def run(*args: str) -> str:
        res = CliRunner().invoke(app, list(args))
        assert res.exit_code == 0, res.output
        return res.stdout

    run("instance", "dt-vehicular", "--seed", "2", "--N", "3", "--slots", "5", "-o", str(inst))
    solved = json.loads(run("solve", str(inst), "--solver", "lyapunov", "-o", str(dec)))
    for term in ("energy_j", "latency_s", "qos", "edge_energy_j", "resource_ratio", "decisions", "objective"):
        assert term in solved
    evaluated = json.loads(run("evaluate", str(inst), str(dec)))
    assert evaluated["feasible"] and set(evaluated) >= {"energy_j", "qos", "p2", "final_queue_bytes"}
