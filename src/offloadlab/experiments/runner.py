"""Executing a sweep: runs in parallel worker processes (or on Ray), each result stored as it finishes,
finished runs skipped on a rerun. One run is ``execute``; where runs execute is ``executors``."""

from __future__ import annotations

import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from offloadlab.core.errors import InputError
from offloadlab.experiments.confine import confine_options
from offloadlab.experiments.execute import execute_run, now_iso, thin_history
from offloadlab.experiments.executors import (
    MAX_JOBS,
    THREAD_ENV,
    Executor,
    InlineExecutor,
    ProcessExecutor,
    RayExecutor,
    inline_executor,
    make_executor,
)
from offloadlab.experiments.plan import RunConfig, expand
from offloadlab.experiments.spec import ExperimentSpec
from offloadlab.experiments.store import Claim, ResultsStore

__all__ = [  # what callers import from here
    "MAX_JOBS",
    "THREAD_ENV",
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "SweepSummary",
    "execute_run",
    "inline_executor",
    "make_executor",
    "manifest",
    "now_iso",
    "run_sweep",
    "summary_lines",
    "thin_history",
]
POLL_S = 0.2  # how often runs held by another runner are tried again


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
