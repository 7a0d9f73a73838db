"""Regression tests of the store and runner against hostile or broken surroundings: a manifest of the wrong
shape, a killed runner, spec paths outside the results folder, recordings that must not overwrite a file,
secrets in stored errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import RunConfig
from offloadlab.experiments.runner import execute_run, inline_executor, run_sweep
from offloadlab.experiments.spec import load_spec
from offloadlab.llm.replay import RecordingBackend
from tests.experiments.conftest import tiny_spec

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "offloadlab"]


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: {**m, "runs": "all of them"},
        lambda m: {**m, "runs": [{**m["runs"][0], "key": 7}]},
        lambda m: {**m, "spec": {**m["spec"], "solvers": "local"}},
        lambda m: {k: v for k, v in m.items() if k != "spec"},
        lambda m: [m],
    ],
    ids=["runs-text", "key-number", "solvers-text", "no-spec", "a-list"],
)
def test_a_wrong_shaped_manifest_is_quarantined(write_spec, tmp_path, damage):
    spec_path = write_spec(tiny_spec())
    out = tmp_path / "r"
    assert run_sweep(load_spec(spec_path), out, inline_executor, show_progress=False).complete
    manifest = out / "experiments" / "tiny.json"
    manifest.write_text(json.dumps(damage(json.loads(manifest.read_text()))))
    report = cli("report", out, "-o", tmp_path / "report.html")
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    assert (out / "experiments" / "quarantine" / "tiny.json").is_file()
    again = cli("run", spec_path, "--out", out, "--quiet")  # not blamed on "another spec": the plan is rewritten
    assert again.returncode == 0 and "8 already stored" in again.stderr, again.stderr


def _descendants(pid: int) -> set[int]:
    """Live (not zombie) descendants of ``pid``, from /proc."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for c in map(int, children):
            found.add(c)
            todo.append(c)
    return {c for c in found if _alive(c)}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from Linux's /proc")
def test_kill_9_of_the_runner_leaves_no_worker(write_spec, tmp_path):
    long = tiny_spec(budget=10**9, grid={"product": {"N": [3]}}, solvers=[{"name": "random"}])
    spec_path = write_spec(long)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    args = [*CLI, "run", str(spec_path), "--out", str(tmp_path / "r"), "-j", "2", "--quiet"]
    runner = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list((tmp_path / "r").glob("**/*.lock"))) < 2:
            time.sleep(0.2)
        time.sleep(3)  # the spawned workers import offloadlab and start their runs
        workers = _descendants(runner.pid)
        assert workers, "the runner started no worker"
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), f"workers left behind: {[w for w in workers if _alive(w)]}"
    finally:  # whatever the outcome, nothing of this test keeps running
        for pid in [runner.pid, *workers, *_descendants(runner.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_spec_paths_resolve_inside_the_results_folder(write_spec, tmp_path):
    base = {"params": {"M": 2, "I": 2, "N": 2}, "grid": {}, "plot": None, "seeds": 1}
    outside = tiny_spec(**base, solvers=[{"name": "ddpg", "budget": 20, "options": {"checkpoint": "../escape.zip"}}])
    with pytest.raises(InputError, match=r"solvers\.0\.options\.checkpoint: path '\.\./escape\.zip' leaves"):
        run_sweep(load_spec(write_spec(outside)), tmp_path / "r", inline_executor, show_progress=False)
    assert not (tmp_path / "r").exists() and not (tmp_path / "escape.zip").exists()
    inside = tiny_spec(**base, solvers=[{"name": "ddpg", "budget": 20, "options": {"checkpoint": "ckpt/d.zip"}}])
    summary = run_sweep(load_spec(write_spec(inside)), tmp_path / "r", inline_executor, show_progress=False)
    assert summary.complete and (tmp_path / "r" / "ckpt" / "d.zip").is_file()


@pytest.mark.parametrize("option", ["llm_api_key_env", "llm_base_url"])
def test_a_spec_naming_a_secret_option_is_refused(write_spec, option):
    spec = tiny_spec(solvers=[{"name": "llm", "options": {option: "X"}}])
    with pytest.raises(InputError, match=rf"solvers\.0\.options\.{option}: not allowed in a spec"):
        load_spec(write_spec(spec), check=False)


class _Echo:
    name, model = "echo", "echo"

    def complete(self, request, timeout_s):  # pragma: no cover - never called here
        raise AssertionError


def test_a_recording_never_overwrites_a_file(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("my notes\n")
    with pytest.raises(InputError, match="exists and is not a recording"):
        RecordingBackend(_Echo(), other)
    assert other.read_text() == "my notes\n"
    earlier = tmp_path / "calls.jsonl"
    earlier.write_text(json.dumps({"key": "k", "reply": {}}) + "\n")
    RecordingBackend(_Echo(), earlier)  # a recording: appended to, kept
    assert earlier.read_text().startswith('{"key": "k"')


def test_a_stored_error_never_holds_the_key(monkeypatch):
    key = "sk-secret-" + "5" * 30
    monkeypatch.setenv("MY_SERVICE_TOKEN", key)
    cfg = RunConfig("satellite-mec", "default", {"M": 1, "N": 1, "I": 1}, 0, "ga", {"pop_size": key}, None, 0, 0)
    row = execute_run(cfg, "x")
    assert row["status"] == "error" and key not in row["error"] and "***" in row["error"]
