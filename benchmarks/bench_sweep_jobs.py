"""Sweep throughput (runs per minute) of `offloadlab run` with --jobs 1 vs --jobs 2, measured side by side.

Run: .venv/bin/python benchmarks/bench_sweep_jobs.py [--seeds 6] [--budget 100000]
Both sweeps run the same small spec (satellite-mec, M = 3, I = 4, N = 5 and 10, random search and the
reference local search) into fresh stores; the times include starting the worker processes. The load
average is printed because on a shared machine other processes take cores too.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from offloadlab.experiments.runner import make_executor, run_sweep
from offloadlab.experiments.spec import check_registered, parse_spec


def small_spec(seeds: int, budget: int):
    """The benchmark sweep: 2 grid points x ``seeds`` seeds x 2 solvers."""
    return check_registered(
        parse_spec(
            {
                "name": "bench_sweep",
                "scenario": "satellite-mec",
                "params": {"M": 3, "I": 4},
                "grid": {"product": {"N": [5, 10]}},
                "seeds": seeds,
                "budget": budget,
                "solvers": [{"name": "random"}, {"name": "reference", "options": {"restarts": 8}}],
            }
        )
    )


def main() -> None:
    """Measure and print runs per minute for each --jobs value and the speed-up."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--budget", type=int, default=100_000)
    args = ap.parse_args()
    spec = small_spec(args.seeds, args.budget)
    rates = {}
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            summary = run_sweep(spec, out, make_executor("local", jobs), show_progress=False)
            seconds = time.perf_counter() - t0
        assert summary.complete, summary.errors
        rates[jobs] = summary.executed / seconds * 60
        print(
            f"--jobs {jobs}: {summary.executed} runs in {seconds:.1f} s = {rates[jobs]:.0f} runs/min "
            f"(load average before: {load:.1f}, cores: {os.cpu_count()})"
        )
    print(f"speed-up of --jobs 2 over --jobs 1: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
