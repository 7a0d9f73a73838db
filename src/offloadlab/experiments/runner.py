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
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import RunConfig, expand
from offloadlab.experiments.spec import ExperimentSpec
from offloadlab.experiments.store import ResultsStore

# One BLAS/OpenMP thread per worker process: the workers already fill the cores.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
LLM_STATS = ("llm_calls", "prompt_tokens", "completion_tokens", "invalid_outputs")


@dataclass
class SweepSummary:
    """What a call of run_sweep did."""

    experiment: str
    out: Path
    planned: int
    skipped: int
    executed: int = 0
    left_out: int = 0  # planned runs not attempted because of ``only``
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Every planned run (not left out) is stored without error."""
        return (not self.interrupted and not self.errors
                and self.skipped + self.executed + self.left_out == self.planned)


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def software_version() -> str:
    """offloadlab's version plus the git commit of the source tree when there is one."""
    from offloadlab import __version__

    src = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def thin_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the first point, every point where the best objective changes, and the last point.

    Lossless for the best-so-far step curve on any of the history's (monotone) axes.
    """
    kept = [h for j, h in enumerate(history)
            if j in (0, len(history) - 1) or h["best_objective"] != history[j - 1]["best_objective"]]
    return [{**h, "best_objective": h["best_objective"] if h["best_objective"] is not None else math.inf}
            for h in kept]


def execute_run(cfg: RunConfig, experiment: str) -> dict[str, Any]:
    """Generate the instance, solve it through core.run.solve, and return the store row (never raises)."""
    from offloadlab.core.registry import get_scenario
    from offloadlab.core.run import solve

    row: dict[str, Any] = {
        "key": cfg.key, "experiment": experiment, "label": cfg.label, "scenario": cfg.scenario,
        "preset": cfg.preset, "params_json": json.dumps(cfg.params, sort_keys=True),
        "instance_seed": cfg.instance_seed, "solver": cfg.solver,
        "options_json": json.dumps(cfg.options, sort_keys=True), "budget": cfg.budget,
        "repetition": cfg.repetition, "solver_seed": cfg.solver_seed,
        "host": socket.gethostname(), "pid": os.getpid(), "started_at": now_iso(),
    }
    t0 = time.perf_counter()
    try:
        data = get_scenario(cfg.scenario).make_instance(cfg.instance_seed, cfg.preset, **cfg.params)
        _, _, result = solve(data, cfg.solver, cfg.solver_seed, cfg.budget, **cfg.options)
        res = result.to_json()
        stats = res["stats"]
        row.update({
            "status": "ok", "instance_params_json": json.dumps(data.get("params", {}), sort_keys=True),
            "objective": res["objective"], "feasible": res["feasible"],
            "evaluations": stats.get("evaluations"),
            "stats_json": json.dumps(stats, sort_keys=True), "details_json": json.dumps(res["details"]),
            "decision_json": json.dumps(res["decision"]), "history": thin_history(res["history"]),
            **{k: _int_or_none(stats.get(k)) for k in LLM_STATS},
        })
    except Exception as exc:  # a failing run is recorded and retried on the next rerun, never fatal
        tb = traceback.format_exc(limit=-3)
        row.update({"status": "error", "error": f"{type(exc).__name__}: {exc}\n{tb}"[-4000:]})
    row["wall_s"] = time.perf_counter() - t0
    row["finished_at"] = now_iso()
    return row


def _int_or_none(x: Any) -> int | None:
    return int(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


Executor = Callable[[list[RunConfig], str], Iterator[tuple[RunConfig, dict[str, Any]]]]


def inline_executor(runs: list[RunConfig], experiment: str) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
    """Runs one after another in this process."""
    for cfg in runs:
        yield cfg, execute_run(cfg, experiment)


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


def process_executor(jobs: int) -> Executor:
    """Runs in ``jobs`` spawned worker processes (spawn: safe with threads and torch in the parent)."""
    import multiprocessing

    def execute(runs: list[RunConfig], experiment: str) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
        try:
            with thread_env():  # workers start on submit and inherit the environment then
                pending = {pool.submit(execute_run, cfg, experiment): cfg for cfg in runs}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield pending.pop(fut), fut.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    return execute


def ray_executor(jobs: int, address: str | None) -> Executor:
    """Runs as Ray tasks of one CPU each, on a cluster at ``address`` or a local Ray of ``jobs`` CPUs."""
    try:
        import ray
    except ImportError:
        raise InputError("executor", "ray is not installed (install the extra: pip install 'offloadlab[ray]')") from None

    def execute(runs: list[RunConfig], experiment: str) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=address, num_cpus=None if address else jobs, include_dashboard=False,
                     log_to_driver=False, runtime_env={"env_vars": THREAD_ENV})
        try:
            remote = ray.remote(num_cpus=1)(execute_run)
            pending = {remote.remote(cfg, experiment): cfg for cfg in runs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                yield pending.pop(done[0]), ray.get(done[0])
        finally:
            if started_here:
                ray.shutdown()

    return execute


def make_executor(kind: str, jobs: int, ray_address: str | None = None) -> Executor:
    """The executor named ``kind`` (local | ray)."""
    if jobs < 1:
        raise InputError("jobs", f"value {jobs} outside the allowed range [1, inf)")
    if kind == "ray":
        return ray_executor(jobs, ray_address)
    if kind != "local":
        raise InputError("executor", f"unknown executor '{kind}' (allowed: local, ray)")
    if ray_address:
        raise InputError("ray-address", "only used with --executor ray")
    return inline_executor if jobs == 1 else process_executor(jobs)


def manifest(spec: ExperimentSpec, runs: list[RunConfig], source: str | None) -> dict[str, Any]:
    """What the store keeps about an experiment: its spec and its planned runs."""
    return {
        "name": spec.name, "figure": spec.figure, "title": spec.title, "source": source,
        "spec": spec.model_dump(mode="json"), "updated_at": now_iso(),
        "runs": [{"key": r.key, "label": r.label, "solver": r.solver, "options": r.options, "point": r.point,
                  "params": r.params, "instance_seed": r.instance_seed, "repetition": r.repetition,
                  "reference": r.reference} for r in runs],
    }


def _check_solver_names(names: tuple[str, ...], runs: list[RunConfig], option: str) -> None:
    have = sorted({r.solver for r in runs})
    unknown = [n for n in names if n not in have]
    if unknown:
        raise InputError(option, f"'{unknown[0]}' is not a solver of this experiment (has: {', '.join(have)})")


def run_sweep(spec: ExperimentSpec, out: str | Path, executor: Executor, source: str | None = None,
              show_progress: bool = True, redo: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> SweepSummary:
    """Expand a registry-checked spec, skip runs already stored (except those of the solvers in ``redo``),
    execute the rest (only those of the solvers in ``only``, when given) and store each on arrival.

    The store's manifest always lists every planned run, so figures show what is still missing."""
    from offloadlab.experiments.progress import SweepProgress

    t0 = time.perf_counter()
    runs = expand(spec)
    _check_solver_names(redo, runs, "redo")
    _check_solver_names(only, runs, "only")
    store = ResultsStore(out).create()
    store.write_experiment(spec.name, manifest(spec, runs, source))
    finished = {k for k, status in store.statuses().items() if status == "ok"}
    missing = [r for r in runs if r.key not in finished or r.solver in redo]
    todo = [r for r in missing if not only or r.solver in only]
    summary = SweepSummary(spec.name, Path(out), planned=len(runs), skipped=len(runs) - len(missing),
                           left_out=len(missing) - len(todo))
    version = software_version()
    with SweepProgress(spec.name, summary, enabled=show_progress) as progress:
        try:
            for cfg, row in executor(todo, spec.name):
                row["version"] = version
                store.write_run(row)
                summary.executed += 1
                if row["status"] != "ok":
                    summary.errors.append(f"{cfg.describe()}: {row['error'].splitlines()[0]}")
                progress.advance(cfg, row)
        except KeyboardInterrupt:
            summary.interrupted = True
        except Exception as exc:  # e.g. a worker killed by the OS: what is stored stays stored
            summary.interrupted = True
            summary.errors.append(f"sweep stopped: {type(exc).__name__}: {exc}")
    summary.seconds = time.perf_counter() - t0
    return summary


def summary_lines(s: SweepSummary) -> list[str]:
    """Human summary of a sweep for the CLI."""
    left = f", {s.left_out} left out (--only)" if s.left_out else ""
    lines = [f"{s.experiment}: {s.planned} runs planned, {s.skipped} already stored, {s.executed} run now{left} "
             f"({s.seconds:.1f} s); results in {s.out}"]
    lines += [f"  failed: {e}" for e in s.errors[:10]]
    if len(s.errors) > 10:
        lines.append(f"  ... and {len(s.errors) - 10} more failures")
    if s.interrupted or s.errors:
        lines.append("  the sweep is incomplete: run the same command again to finish it (stored runs are skipped)")
    return lines

