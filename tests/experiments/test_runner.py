"""The runner: results stored as runs finish, finished runs skipped, a SIGKILLed sweep completed by a rerun."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time

import pytest

from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import expand
from offloadlab.experiments.runner import InlineExecutor, execute_run, inline_executor, make_executor, run_sweep
from offloadlab.experiments.spec import load_spec
from offloadlab.experiments.store import ResultsStore
from tests.experiments.conftest import tiny_spec


class Counting(InlineExecutor):
    """The inline executor, recording which run keys it executes."""

    def __init__(self, executed: list[str]):
        super().__init__()
        self.executed = executed

    def next_done(self, timeout):
        got = super().next_done(timeout)
        if got is not None:
            self.executed.append(got[0].key)
        return got


def counting(executed: list[str]) -> Counting:
    """An inline executor appending each executed run key to ``executed``."""
    return Counting(executed)


def test_sweep_stores_every_run_once(write_spec, tmp_path):
    spec = load_spec(write_spec(tiny_spec()))
    summary = run_sweep(spec, tmp_path / "r", inline_executor, show_progress=False)
    assert summary.complete and summary.executed == 8
    store = ResultsStore(tmp_path / "r")
    rows = store.rows()
    assert set(rows) == {r.key for r in expand(spec)}
    row = next(r for r in rows.values() if r["solver"] == "random")
    assert row["status"] == "ok" and row["feasible"] in (True, False) and row["evaluations"] == 64
    assert row["history"] and row["history"][-1]["evaluations"] == 64
    assert row["version"] and row["wall_s"] >= 0 and row["instance_params_json"]


def test_rerun_skips_finished_runs_and_adds_only_new_ones(write_spec, tmp_path):
    spec = load_spec(write_spec(tiny_spec()))
    first: list[str] = []
    run_sweep(spec, tmp_path / "r", counting(first), show_progress=False)
    again: list[str] = []
    summary = run_sweep(spec, tmp_path / "r", counting(again), show_progress=False)
    assert again == [] and summary.skipped == 8 and summary.complete
    bigger = load_spec(write_spec(tiny_spec(seeds=3)))
    more: list[str] = []
    run_sweep(bigger, tmp_path / "r", counting(more), show_progress=False)
    assert len(more) == 4 and set(more).isdisjoint(first)
    assert len(ResultsStore(tmp_path / "r").run_files()) == 12


def test_failed_run_is_stored_then_retried(write_spec, tmp_path):
    spec = load_spec(write_spec(tiny_spec()))
    cfg = expand(spec)[0]
    broken = execute_run(cfg.__class__(**{**cfg.__dict__, "scenario": "no-such-scenario"}), "tiny")
    assert broken["status"] == "error" and "no-such-scenario" in broken["error"]
    store = ResultsStore(tmp_path / "r").create()
    store.write_run({**broken, "key": cfg.key})
    assert store.statuses() == {cfg.key: "error"}
    summary = run_sweep(spec, tmp_path / "r", inline_executor, show_progress=False)
    assert summary.executed == 8 and store.statuses()[cfg.key] == "ok" and len(store.run_files()) == 8


def test_sigkill_mid_sweep_then_rerun_completes_with_each_run_once(write_spec, tmp_path):
    """A real `offloadlab run` process group is killed with SIGKILL while runs are being stored."""
    spec_path = write_spec(
        tiny_spec(
            params={"M": 3, "I": 4},
            grid={"product": {"N": [5, 10]}},
            seeds=6,
            budget=8_000,
            solvers=[{"name": "random"}],
        )
    )
    out = tmp_path / "store"
    cmd = [sys.executable, "-m", "offloadlab", "run", str(spec_path), "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    runs_dir = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(runs_dir.glob("*.parquet"))) < 3 and proc.poll() is None:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = {p.name: p.stat().st_mtime_ns for p in runs_dir.glob("*.parquet")}
    planned = {r.key for r in expand(load_spec(spec_path))}
    assert 3 <= len(before) < len(planned), "the kill must land in the middle of the sweep"

    done = subprocess.run(cmd + ["--quiet"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} already stored, {len(planned) - len(before)} run now" in done.stderr
    files = list(runs_dir.glob("*.parquet"))
    assert sorted(p.stem for p in files) == sorted(planned)
    assert not list(runs_dir.glob("*.tmp"))
    assert all(before[p.name] == p.stat().st_mtime_ns for p in files if p.name in before)  # not rerun
    counts = ResultsStore(out).query("SELECT key, count(*) AS n, min(status) AS s FROM runs GROUP BY key")
    assert len(counts) == len(planned) and all(c["n"] == 1 and c["s"] == "ok" for c in counts)
    # worker processes give what the same run gives in this process (seeded end to end)
    stored = ResultsStore(out).rows()
    for cfg in expand(load_spec(spec_path))[:2]:
        assert execute_run(cfg, "check")["objective"] == stored[cfg.key]["objective"]


@pytest.mark.slow
def test_ray_executor_runs_the_same_sweep(write_spec, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is an optional extra: pip install 'offloadlab[ray]'")
    spec = load_spec(write_spec(tiny_spec()))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_sweep(spec, tmp_path / "ray", make_executor("ray", 2), show_progress=False)
    finally:
        ray.shutdown()
    run_sweep(spec, tmp_path / "local", inline_executor, show_progress=False)
    assert summary.complete and summary.executed == 8
    a, b = ResultsStore(tmp_path / "ray").rows(), ResultsStore(tmp_path / "local").rows()
    assert {k: r["objective"] for k, r in a.items()} == {k: r["objective"] for k, r in b.items()}


def test_thin_history_keeps_the_best_so_far_step_curve():
    from offloadlab.experiments.runner import thin_history

    bests = [None, 5.0, 5.0, 4.0, 4.0, 4.0, 3.5, 3.5]
    hist = [
        {"evaluations": 10 * (j + 1), "seconds": j / 10, "best_objective": b, "llm_calls": 0, "llm_tokens": 0}
        for j, b in enumerate(bests)
    ]
    thin = thin_history(hist)
    assert [h["evaluations"] for h in thin] == [10, 20, 40, 70, 80]
    assert math.isinf(thin[0]["best_objective"])
    for h in hist:  # the step curve read at every original point is unchanged
        last = [t for t in thin if t["evaluations"] <= h["evaluations"]][-1]["best_objective"]
        assert last == (h["best_objective"] if h["best_objective"] is not None else math.inf)


def test_only_runs_the_named_solver_and_the_manifest_keeps_every_run(write_spec, tmp_path):
    spec = load_spec(write_spec(tiny_spec()))
    executed: list[str] = []
    summary = run_sweep(spec, tmp_path / "r", counting(executed), show_progress=False, only=("random",))
    assert summary.complete and summary.left_out == 4 and len(executed) == 4
    store = ResultsStore(tmp_path / "r")
    assert {r["solver"] for r in store.rows().values()} == {"random"}
    assert len(store.experiments()["tiny"]["runs"]) == 8
    with pytest.raises(InputError, match="only: 'ga' is not a solver of this experiment"):
        run_sweep(spec, tmp_path / "r", inline_executor, show_progress=False, only=("ga",))
