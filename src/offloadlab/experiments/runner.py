"""Executing a sweep: runs in parallel worker processes (or on Ray), each result stored as it finishes,
finished runs skipped on a rerun."""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import time
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from offloadlab.core.errors import InputError, mask_secrets
from offloadlab.core.io import scratch_logdir
from offloadlab.experiments.confine import confine_options
from offloadlab.experiments.plan import RunConfig, expand
from offloadlab.experiments.spec import ExperimentSpec
from offloadlab.experiments.store import Claim, ResultsStore

# One BLAS/OpenMP thread per worker process: the workers already fill the cores.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LLM_STATS = ("llm_calls", "prompt_tokens", "completion_tokens", "invalid_outputs")
MAX_JOBS = 1024
POLL_S = 0.2  # how often runs held by another runner are tried again
PARENT_POLL_S = 1.0  # how often a worker checks that its runner is alive
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent dies


@dataclass
class SweepSummary:
    """What a call of run_sweep did."""

    experiment: str
    out: Path
    planned: int
    skipped: int
    executed: int = 0
    left_out: int = 0  # planned runs not attempted because of ``only``
    elsewhere: int = 0  # runs another runner on the same store executed during this sweep
    errors: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)  # unreadable run files moved aside
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Every planned run (not left out) is stored without error."""
        return (
            not self.interrupted
            and not self.errors
            and self.skipped + self.executed + self.elsewhere + self.left_out == self.planned
        )


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def software_version() -> str:
    """offloadlab's version plus the git commit of the source tree when there is one."""
    from offloadlab import __version__

    src = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def thin_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the first point, every point where the best objective changes, and the last point.

    Lossless for the best-so-far step curve on any of the history's (monotone) axes.
    """
    kept = [
        h
        for j, h in enumerate(history)
        if j in (0, len(history) - 1) or h["best_objective"] != history[j - 1]["best_objective"]
    ]
    return [{**h, "best_objective": h["best_objective"] if h["best_objective"] is not None else math.inf} for h in kept]


def execute_run(cfg: RunConfig, experiment: str) -> dict[str, Any]:
    """Generate the instance, solve it through core.run.solve, and return the store row (never raises)."""
    row: dict[str, Any] = {
        "key": cfg.key,
        "experiment": experiment,
        "label": cfg.label,
        "scenario": cfg.scenario,
        "preset": cfg.preset,
        "params_json": json.dumps(cfg.params, sort_keys=True),
        "instance_seed": cfg.instance_seed,
        "solver": cfg.solver,
        "options_json": json.dumps(cfg.options, sort_keys=True),
        "budget": cfg.budget,
        "repetition": cfg.repetition,
        "solver_seed": cfg.solver_seed,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": now_iso(),
    }
    t0 = time.perf_counter()
    try:
        with scratch_logdir():  # libraries' temp folders (SB3-*) go with the run
            row.update(_solved(cfg))
    except Exception as exc:  # a failing run is recorded and retried on the next rerun, never fatal
        tb = traceback.format_exc(limit=-3)
        row.update({"status": "error", "error": mask_secrets(f"{type(exc).__name__}: {exc}\n{tb}")[-4000:]})
    row["wall_s"] = time.perf_counter() - t0
    row["finished_at"] = now_iso()
    return row


def _solved(cfg: RunConfig) -> dict[str, Any]:
    """The result columns of a run: generate the instance and solve it."""
    from offloadlab.core.registry import get_scenario
    from offloadlab.core.run import solve

    options = confine_options(cfg.options, Path(cfg.root), "option") if cfg.root else cfg.options
    data = get_scenario(cfg.scenario).make_instance(cfg.instance_seed, cfg.preset, **cfg.params)
    _, _, result = solve(data, cfg.solver, cfg.solver_seed, cfg.budget, **options)
    res = result.to_json()
    stats = res["stats"]
    return {
        "status": "ok",
        "instance_params_json": json.dumps(data.get("params", {}), sort_keys=True),
        "objective": res["objective"],
        "feasible": res["feasible"],
        "evaluations": _int_or_none(stats.get("evaluations")),
        "stats_json": json.dumps(stats, sort_keys=True),
        "details_json": json.dumps(res["details"]),
        "decision_json": json.dumps(res["decision"]),
        "history": thin_history(res["history"]),
        **{k: _int_or_none(stats.get(k)) for k in LLM_STATS},
    }


def _int_or_none(x: Any) -> int | None:
    """An int64 column value: finite numbers within int64, else None."""
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and abs(x) < 2**63:
        return int(x)
    return None


class Executor:
    """Executes runs and hands back their rows, at most ``slots`` in flight; ``open``/``close`` bracket a sweep
    (the runner submits a run only once it holds the run's claim, so claims match what is executing)."""

    slots = 1

    def open(self) -> None:
        """Get ready for a sweep."""

    def submit(self, cfg: RunConfig, experiment: str) -> None:
        """Start one run."""
        raise NotImplementedError

    def next_done(self, timeout: float | None) -> tuple[RunConfig, dict[str, Any]] | None:
        """A finished run and its row, waiting at most ``timeout`` seconds (None: until one finishes)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop what is still running (the sweep ended or was interrupted)."""


class InlineExecutor(Executor):
    """Runs one after another in this process."""

    def __init__(self) -> None:
        self.queue: list[tuple[RunConfig, str]] = []

    def open(self) -> None:
        """Forget runs of an earlier, interrupted sweep."""
        self.queue = []

    def submit(self, cfg: RunConfig, experiment: str) -> None:
        """Queue the run; it executes in next_done."""
        self.queue.append((cfg, experiment))

    def next_done(self, timeout: float | None) -> tuple[RunConfig, dict[str, Any]] | None:
        """Execute the oldest queued run now."""
        if not self.queue:
            return None
        cfg, experiment = self.queue.pop(0)
        return cfg, execute_run(cfg, experiment)


inline_executor = InlineExecutor()


@contextlib.contextmanager
def thread_env() -> Iterator[None]:
    """Set one-thread BLAS/OpenMP variables (unless the user set them) for child processes, then restore."""
    added = {k: v for k, v in THREAD_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the runner that started it is gone (``kill -9`` included), so that no
    worker keeps computing, and holding a run's claim, for a sweep nobody waits for. Linux delivers SIGKILL
    on the parent's death (prctl PR_SET_PDEATHSIG); elsewhere, and as a second guard, a thread polls."""
    import ctypes
    import signal
    import threading

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)  # no cleanup: the runs it held are redone by the next runner

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ProcessExecutor(Executor):
    """Runs in ``jobs`` spawned worker processes (spawn: safe with threads and torch in the parent)."""

    def __init__(self, jobs: int):
        self.slots = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.pending: dict[Future[dict[str, Any]], RunConfig] = {}

    def open(self) -> None:
        """Start the (lazily spawning) worker pool."""
        import multiprocessing

        self.pool = ProcessPoolExecutor(
            self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )
        self.pending = {}

    def submit(self, cfg: RunConfig, experiment: str) -> None:
        """Send the run to a worker."""
        assert self.pool is not None, "open() first"
        with thread_env():  # a worker starts on a submit and inherits the environment then
            self.pending[self.pool.submit(execute_run, cfg, experiment)] = cfg

    def next_done(self, timeout: float | None) -> tuple[RunConfig, dict[str, Any]] | None:
        """The first run to finish."""
        if not self.pending:
            return None
        done, _ = wait(self.pending, timeout=timeout, return_when=FIRST_COMPLETED)
        if not done:
            return None
        fut = next(iter(done))
        return self.pending.pop(fut), fut.result()

    def close(self) -> None:
        """Cancel what has not started; do not wait for running workers."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool, self.pending = None, {}


class RayExecutor(Executor):
    """Runs as Ray tasks of one CPU each, on a cluster at ``address`` or a local Ray of ``jobs`` CPUs."""

    def __init__(self, jobs: int, address: str | None):
        try:
            import ray
        except ImportError:
            raise InputError(
                "executor", "ray is not installed (install the extra: pip install 'offloadlab[ray]')"
            ) from None
        self.ray, self.slots, self.address = ray, jobs, address
        self.started_here = False
        self.pending: dict[Any, RunConfig] = {}
        self.remote: Any = None

    def open(self) -> None:
        """Join (or start) Ray."""
        self.started_here = not self.ray.is_initialized()
        if self.started_here:
            self.ray.init(
                address=self.address,
                num_cpus=None if self.address else self.slots,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": THREAD_ENV},
            )
        self.remote = self.ray.remote(num_cpus=1)(execute_run)
        self.pending = {}

    def submit(self, cfg: RunConfig, experiment: str) -> None:
        """Submit the run as a task."""
        self.pending[self.remote.remote(cfg, experiment)] = cfg

    def next_done(self, timeout: float | None) -> tuple[RunConfig, dict[str, Any]] | None:
        """The first task to finish."""
        if not self.pending:
            return None
        done, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=timeout)
        if not done:
            return None
        return self.pending.pop(done[0]), self.ray.get(done[0])

    def close(self) -> None:
        """Cancel pending tasks; shut Ray down if this sweep started it."""
        for ref in self.pending:
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
        self.pending = {}
        if self.started_here:
            self.ray.shutdown()


def make_executor(kind: str, jobs: int, ray_address: str | None = None) -> Executor:
    """The executor named ``kind`` (local | ray)."""
    if jobs < 1 or jobs > MAX_JOBS:
        raise InputError("jobs", f"value {jobs} outside the allowed range [1, {MAX_JOBS}]")
    if kind == "ray":
        return RayExecutor(jobs, ray_address)
    if kind != "local":
        raise InputError("executor", f"unknown executor '{kind}' (allowed: local, ray)")
    if ray_address:
        raise InputError("ray-address", "only used with --executor ray")
    return InlineExecutor() if jobs == 1 else ProcessExecutor(jobs)


def manifest(spec: ExperimentSpec, runs: list[RunConfig], source: str | None) -> dict[str, Any]:
    """What the store keeps about an experiment: its spec and its planned runs."""
    return {
        "name": spec.name,
        "figure": spec.figure,
        "title": spec.title,
        "source": source,
        "source_path": str(Path(source).resolve()) if source else None,
        "spec": spec.model_dump(mode="json"),
        "updated_at": now_iso(),
        "runs": [
            {
                "key": r.key,
                "label": r.label,
                "solver": r.solver,
                "options": r.options,
                "point": r.point,
                "params": r.params,
                "instance_seed": r.instance_seed,
                "repetition": r.repetition,
                "reference": r.reference,
            }
            for r in runs
        ],
    }


def _check_solver_names(names: tuple[str, ...], runs: list[RunConfig], option: str) -> None:
    have = sorted({r.solver for r in runs})
    unknown = [n for n in names if n not in have]
    if unknown:
        raise InputError(option, f"'{unknown[0]}' is not a solver of this experiment (has: {', '.join(have)})")


def _stamp(path: Path) -> tuple[int, int] | None:
    """What identifies one version of a run file (None: absent)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_ino


class _Sweep:
    """Feeds claimed runs to an executor and stores their rows; runs another runner holds wait until it
    lets go of them, then count as done when it stored them, or run here when it died first."""

    def __init__(self, store: ResultsStore, executor: Executor, experiment: str, summary: SweepSummary, progress: Any):
        self.store, self.executor, self.experiment = store, executor, experiment
        self.summary, self.progress = summary, progress
        self.held: dict[str, Claim] = {}
        self.stamps: dict[str, tuple[int, int] | None] = {}
        self.version = software_version()

    def run(self, todo: list[RunConfig]) -> None:
        """Execute every run of ``todo`` here or see it stored by another runner."""
        self.stamps = {cfg.key: _stamp(self.store.run_path(cfg.key)) for cfg in todo}
        queue, deferred = deque(todo), deque[RunConfig]()
        self.executor.open()
        try:
            while queue or deferred or self.held:
                while len(self.held) < self.executor.slots and queue:
                    self._start(queue.popleft(), deferred)
                if len(self.held) < self.executor.slots and not queue:
                    for _ in range(len(deferred)):  # one more try each, without blocking
                        self._start(deferred.popleft(), deferred)
                if self.held:
                    got = self.executor.next_done(POLL_S if deferred else None)
                    if got is not None:
                        self._store(*got)
                elif deferred:
                    time.sleep(POLL_S)
        finally:
            self.executor.close()
            for claim in self.held.values():
                claim.release()
            self.held = {}

    def _start(self, cfg: RunConfig, deferred: deque[RunConfig]) -> None:
        claim = self.store.try_claim(cfg.key)
        if claim is None:  # another runner executes it right now
            deferred.append(cfg)
            return
        if _stamp(self.store.run_path(cfg.key)) != self.stamps[cfg.key]:  # stored by another runner meanwhile
            status = self.store.stored_status(cfg.key)
            if status is not None:
                claim.release()
                self.summary.elsewhere += 1
                if status != "ok":
                    self.summary.errors.append(f"{cfg.describe()}: failed in another runner (see its row)")
                self.progress.elsewhere(cfg, status)
                return
        self.held[cfg.key] = claim
        self.executor.submit(cfg, self.experiment)

    def _store(self, cfg: RunConfig, row: dict[str, Any]) -> None:
        row["version"] = self.version
        try:
            try:
                self.store.write_run(row)
            except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:  # a value the schema cannot hold
                keep = {
                    k: row.get(k)
                    for k in (
                        "key",
                        "experiment",
                        "label",
                        "scenario",
                        "preset",
                        "params_json",
                        "instance_seed",
                        "solver",
                        "options_json",
                        "budget",
                        "repetition",
                        "solver_seed",
                        "host",
                        "pid",
                        "started_at",
                        "finished_at",
                        "wall_s",
                        "version",
                    )
                }
                row = {**keep, "status": "error", "error": f"the result could not be stored: {exc}"}
                self.store.write_run(row)
        finally:
            self.held.pop(cfg.key).release()
        self.summary.executed += 1
        if row["status"] != "ok":
            self.summary.errors.append(f"{cfg.describe()}: {row['error'].splitlines()[0]}")
        self.progress.advance(cfg, row)


def run_sweep(
    spec: ExperimentSpec,
    out: str | Path,
    executor: Executor,
    source: str | None = None,
    show_progress: bool = True,
    redo: tuple[str, ...] = (),
    only: tuple[str, ...] = (),
) -> SweepSummary:
    """Expand a registry-checked spec, skip runs already stored (except those of the solvers in ``redo``),
    execute the rest (only those of the solvers in ``only``, when given) and store each on arrival.

    The store's manifest always lists every planned run, so figures show what is still missing. Several
    runners may share one store and one sweep: each run is claimed before it starts (see store.Claim)."""
    from offloadlab.experiments.progress import SweepProgress

    t0 = time.perf_counter()
    for i, entry in enumerate(spec.solvers):  # every path inside the results folder, before anything runs
        confine_options(entry.options, Path(out), f"spec.solvers.{i}.options")
    runs = expand(spec, str(Path(out).resolve()))
    _check_solver_names(redo, runs, "redo")
    _check_solver_names(only, runs, "only")
    store = ResultsStore(out).create()
    store.write_experiment(spec.name, manifest(spec, runs, source))
    finished = {k for k, status in store.statuses().items() if status == "ok"}
    missing = [r for r in runs if r.key not in finished or r.solver in redo]
    todo = [r for r in missing if not only or r.solver in only]
    summary = SweepSummary(
        spec.name, Path(out), planned=len(runs), skipped=len(runs) - len(missing), left_out=len(missing) - len(todo)
    )
    with SweepProgress(spec.name, summary, enabled=show_progress) as progress:
        try:
            _Sweep(store, executor, spec.name, summary, progress).run(todo)
        except KeyboardInterrupt:
            summary.interrupted = True
        except Exception as exc:  # e.g. a worker killed by the OS: what is stored stays stored
            summary.interrupted = True
            summary.errors.append(f"sweep stopped: {type(exc).__name__}: {exc}")
    summary.quarantined = [str(p) for p in store.quarantined]
    summary.seconds = time.perf_counter() - t0
    return summary


def summary_lines(s: SweepSummary) -> list[str]:
    """Human summary of a sweep for the CLI."""
    left = f", {s.left_out} left out (--only)" if s.left_out else ""
    other = f", {s.elsewhere} run by another runner" if s.elsewhere else ""
    lines = [
        f"{s.experiment}: {s.planned} runs planned, {s.skipped} already stored, {s.executed} run now{other}"
        f"{left} ({s.seconds:.1f} s); results in {s.out}"
    ]
    if s.quarantined:
        lines.append(
            f"  {len(s.quarantined)} unreadable run files moved to quarantine (their runs were redone): "
            f"{', '.join(s.quarantined[:3])}{' ...' if len(s.quarantined) > 3 else ''}"
        )
    lines += [f"  failed: {e}" for e in s.errors[:10]]
    if len(s.errors) > 10:
        lines.append(f"  ... and {len(s.errors) - 10} more failures")
    if s.interrupted or s.errors:
        lines.append("  the sweep is incomplete: run the same command again to finish it (stored runs are skipped)")
    return lines
