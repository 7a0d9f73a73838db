"""The store heals and shares: unreadable run files are quarantined and redone, two runners share a sweep
(each run executed once), temp files of a live writer survive, one spec per experiment name, no SB3 litter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import expand
from offloadlab.experiments.runner import execute_run, inline_executor, run_sweep
from offloadlab.experiments.spec import load_spec
from offloadlab.experiments.store import ResultsStore
from tests.experiments.conftest import tiny_spec

HERE = Path(__file__).parent


def test_unreadable_run_files_are_quarantined_and_redone(write_spec, tmp_path):
    spec = load_spec(write_spec(tiny_spec()))
    out = tmp_path / "r"
    assert run_sweep(spec, out, inline_executor, show_progress=False).complete
    store = ResultsStore(out)
    files = store.run_files()
    files[0].write_bytes(b"")  # an interrupted copy: empty
    files[1].write_bytes(files[1].read_bytes()[:100])  # truncated
    files[2].write_bytes(b"PAR1 not parquet at all")
    notices: list[str] = []
    assert len(ResultsStore(out, notice=notices.append).statuses()) == len(files) - 3  # queries heal
    assert len(notices) == 1 and "3 unreadable run files moved to" in notices[0]
    assert sorted(p.name for p in (out / "runs" / "quarantine").iterdir()) == sorted(f.name for f in files[:3])
    for f in files[:2]:  # the same damage again: a second quarantined copy gets its own name
        f.write_bytes(b"")
    summary = run_sweep(spec, out, inline_executor, show_progress=False)
    assert summary.complete and summary.executed == 3 and summary.skipped == 5
    assert len(summary.quarantined) == 2 and len(list((out / "runs" / "quarantine").iterdir())) == 5
    rows = ResultsStore(out).rows()
    assert set(rows) == {r.key for r in expand(spec)} and {r["status"] for r in rows.values()} == {"ok"}


def test_corrupt_run_file_then_cli_run_plot_and_report_work(write_spec, tmp_path):
    spec_path = write_spec(tiny_spec())
    out = tmp_path / "r"
    cmd = [sys.executable, "-m", "offloadlab"]
    assert subprocess.run(cmd + ["run", str(spec_path), "--out", str(out), "--quiet"]).returncode == 0
    victim = sorted((out / "runs").glob("*.parquet"))[3]
    victim.write_bytes(victim.read_bytes()[:-50])
    report = subprocess.run(cmd + ["report", str(out)], capture_output=True, text=True)
    assert report.returncode == 0 and "1 unreadable run file moved to" in report.stderr, report.stderr
    again = subprocess.run(cmd + ["run", str(spec_path), "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert again.returncode == 0 and "7 already stored, 1 run now" in again.stderr, again.stderr
    assert victim.is_file() and (out / "runs" / "quarantine" / victim.name).is_file()


def test_a_live_writers_temp_file_survives_a_second_runner_start(tmp_path):
    store = ResultsStore(tmp_path / "s").create()
    key = "0123456789abcdef01234567"
    claim = store.try_claim(key)
    assert claim is not None and store.try_claim(key) is None  # flock: exclusive even within one process
    live = store.runs_dir / f"{key}.parquet.999999.tmp"
    dead = store.runs_dir / "ffffffffffffffffffffffff.parquet.999998.tmp"
    live.write_bytes(b"half")
    dead.write_bytes(b"half")
    ResultsStore(tmp_path / "s").create()
    assert live.is_file() and not dead.exists()
    claim.release()
    assert not (store.claims_dir / f"{key}.lock").exists()
    ResultsStore(tmp_path / "s").create()
    assert not live.exists()


def test_a_claim_dies_with_its_process(tmp_path):
    store = ResultsStore(tmp_path / "s").create()
    code = (
        "import sys, time; from offloadlab.experiments.store import ResultsStore; "
        "c = ResultsStore(sys.argv[1]).try_claim('k'); print(c is not None, flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(store.root)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "True"
        assert store.try_claim("k") is None
    finally:
        holder.kill()
        holder.wait()
    claim = store.try_claim("k")  # the kernel dropped the lock of the killed holder
    assert claim is not None
    claim.release()


def test_two_specs_cannot_share_an_experiment_name(write_spec, tmp_path):
    out = tmp_path / "r"
    a = write_spec(tiny_spec(solvers=[{"name": "random"}]), "a.yaml")
    b = write_spec(tiny_spec(solvers=[{"name": "local"}]), "b.yaml")
    assert run_sweep(load_spec(a), out, inline_executor, str(a), show_progress=False).complete
    with pytest.raises(InputError, match=r"name: experiment 'tiny' in store .* was written by another spec"):
        run_sweep(load_spec(b), out, inline_executor, str(b), show_progress=False)
    assert ResultsStore(out).experiments()["tiny"]["spec"]["solvers"][0]["name"] == "random"
    grown = write_spec(tiny_spec(solvers=[{"name": "random"}], seeds=3), "a.yaml")  # the same file, edited
    assert run_sweep(load_spec(grown), out, inline_executor, str(grown), show_progress=False).complete
    assert ResultsStore(out).experiments()["tiny"]["spec"]["seeds"] == [0, 1, 2]
    same = write_spec(tiny_spec(solvers=[{"name": "random"}], seeds=3), "copy.yaml")  # another file, same spec
    assert run_sweep(load_spec(same), out, inline_executor, str(same), show_progress=False).complete


def test_unreadable_manifest_is_quarantined(write_spec, tmp_path):
    out = tmp_path / "r"
    run_sweep(load_spec(write_spec(tiny_spec())), out, inline_executor, show_progress=False)
    (out / "experiments" / "broken.json").write_text('{"name": ')
    notices: list[str] = []
    assert set(ResultsStore(out, notice=notices.append).experiments()) == {"tiny"}
    assert (out / "experiments" / "quarantine" / "broken.json").is_file() and "manifest" in notices[0]


def test_run_out_that_is_a_file_is_one_line(write_spec, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="out: '.*afile' is a file, not a results store directory"):
        run_sweep(load_spec(write_spec(tiny_spec())), tmp_path / "afile", inline_executor, show_progress=False)


def test_sb3_leaves_no_temp_folder(write_spec, tmp_path, monkeypatch):
    spec = load_spec(
        write_spec(
            tiny_spec(
                params={"M": 2, "I": 2, "N": 3},
                grid={},
                seeds=1,
                budget=None,
                plot=None,
                solvers=[{"name": "ddpg", "budget": 64}],
            )
        )
    )
    system_tmp = tmp_path / "system-tmp"  # a private system temp folder: other processes litter /tmp
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    row = execute_run(expand(spec)[0], "sb3")
    assert row["status"] == "ok", row.get("error")
    left = [p.name for p in system_tmp.iterdir() if p.name != "torchinductor_root"]  # torch's shared cache stays
    assert left == [] and "SB3_LOGDIR" not in os.environ


def test_two_concurrent_runners_share_a_30_run_sweep(write_spec, tmp_path):
    """Two real `offloadlab run` processes (one inline, one with two workers) on one store, started together:
    every run is executed exactly once (counted by the solver itself, across all processes)."""
    spec_path = write_spec(
        tiny_spec(
            params={"M": 2, "I": 2, "N": 3}, grid={}, seeds=30, budget=20, plot=None, solvers=[{"name": "counted"}]
        )
    )
    count = tmp_path / "executions.jsonl"
    env = {
        **os.environ,
        "OFFLOADLAB_PLUGINS": "tests.experiments.counting_plugin",
        "OFFLOADLAB_COUNT_FILE": str(count),
        "OFFLOADLAB_COUNT_SLEEP": "0.3",
        "PYTHONPATH": os.pathsep.join([str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")]),
    }
    out = tmp_path / "store"
    base = [sys.executable, "-m", "offloadlab", "run", str(spec_path), "--out", str(out)]
    procs = [
        subprocess.Popen(base + ["--jobs", jobs], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for jobs in ("1", "2")
    ]
    t0 = time.monotonic()
    results = [p.communicate(timeout=600) for p in procs]
    wall = time.monotonic() - t0
    for proc, (_, err) in zip(procs, results):
        assert proc.returncode == 0, err
    lines = [json.loads(x) for x in count.read_text().splitlines()]
    runs = [r["run"] for r in lines]
    from offloadlab.experiments.plan import solver_seed

    expected = {str(np.random.default_rng(solver_seed(s, 0)).bit_generator.state["state"]["state"]) for s in range(30)}
    assert sorted(runs) == sorted(expected) and len(runs) == 30  # each run executed exactly once
    summaries = [err.strip().splitlines()[-1] for _, err in results]
    executed = [int(s.split(" run now")[0].rsplit(" ", 1)[1]) for s in summaries]
    assert sum(executed) == 30 and min(executed) > 0, summaries  # both did a share of the work
    rows = ResultsStore(out).rows()
    assert len(rows) == 30 and {r["status"] for r in rows.values()} == {"ok"}
    assert not list((out / "runs").glob("*.tmp")) and not list((out / "claims").iterdir())
    print(
        f"two runners: executions per runner {executed}, {len(set(r['pid'] for r in lines))} executing "
        f"processes, {len(runs)} executions for 30 runs, {wall:.1f} s wall"
    )
