"""Adding a scenario costs one folder: the toy scenario in tests/toy_plugin/toy_offload/ (model, methods,
paper, plug-in) runs through `offloadlab instance`, `solve`, `run`, `report` and `reproduce` with nothing
outside its folder, loaded as a plug-in through $OFFLOADLAB_PLUGINS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TOY = Path(__file__).parent / "toy_plugin"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OFFLOADLAB_PLUGINS": "toy_offload.plugin",
        "PYTHONPATH": os.pathsep.join([str(TOY), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "offloadlab", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("toy")


def test_toy_is_listed_with_its_solvers(work):
    out = cli("list", cwd=work)
    assert out.returncode == 0, out.stderr
    table = json.loads(out.stdout)
    assert {"greedy", "random", "ga"} <= set(table["toy-offload"]) and "llm" not in table["toy-offload"]


def test_toy_instance_solve_and_bad_input(work):
    assert cli("instance", "toy-offload", "--N", "5", "--seed", "3", "-o", "inst.json", cwd=work).returncode == 0
    out = cli("solve", "inst.json", "--solver", "greedy", cwd=work)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["feasible"] and res["objective"] > 0 and len(res["offload"]) == 5
    bad = cli("solve", "inst.json", "--solver", "greedy", "--max_offloaded", "-1", cwd=work)
    assert bad.returncode == 2 and bad.stderr.startswith("error: option max_offloaded")


def test_toy_run_report_and_reproduce(work):
    spec = TOY / "toy_offload" / "specs" / "toy_lines.yaml"
    out = cli("run", str(spec), "--out", "store", "--quiet", cwd=work)
    assert out.returncode == 0, out.stderr
    report = cli("report", "store", cwd=work)
    assert report.returncode == 0, report.stderr
    html = (work / "store" / "report.html").read_text()
    assert "greedy beats random choice at every N" in html and "toy_lines" in html
    rep = cli("reproduce", "toy-offload", "--quick", "--out", "repro", "--jobs", "1", cwd=work)
    assert rep.returncode == 0, rep.stderr
    assert (work / "repro" / "figures" / "toy_lines.png").is_file()
