"""Where runs execute: inline, in spawned worker processes that exit with their runner, or on Ray."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from offloadlab.core.errors import InputError
from offloadlab.experiments.execute import execute_run
from offloadlab.experiments.plan import RunConfig

# One BLAS/OpenMP thread per worker process: the workers already fill the cores.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MAX_JOBS = 1024
PARENT_POLL_S = 1.0  # how often a worker checks that its runner is alive
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent dies


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
