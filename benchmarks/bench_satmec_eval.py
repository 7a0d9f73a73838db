"""Batched vs per-decision evaluation throughput of the satellite-mec model, measured side by side.

Run: .venv/bin/python benchmarks/bench_satmec_eval.py
Prints decisions/second for a batch of B decisions evaluated at once and for the same decisions
evaluated one by one, their ratio, and the time for one decision at M=100, N=10,000, I=16.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from offloadlab.scenarios.satellite_mec import model
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import PROBLEM


def best_of_interleaved(fns: dict, repeats: int) -> dict:
    """Smallest wall time of each function over ``repeats`` rounds, run alternately so that
    load from other processes affects all of them alike (seconds)."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def main() -> None:
    """Measure and print the figures recorded in the README."""
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--batch",
        type=int,
        nargs="+",
        default=[400, 1024, 4096, 16384],
        help="batch sizes (400 is the GA's population)",
    )
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()

    inst = generate_instance(make_params("default", M=3, N=10, I=4), seed=0)
    for size in args.batch:
        d = PROBLEM.random_decisions(inst, np.random.default_rng(0), size)
        t = best_of_interleaved(
            {
                "batch": lambda d=d: model.evaluate(inst, d["offload"], d["power_w"]),
                "loop": lambda d=d, size=size: [
                    model.evaluate(inst, d["offload"][b], d["power_w"][b]) for b in range(size)
                ],
            },
            args.repeats,
        )
        print(
            f"(3,10,4) batch of {size:>6}: batched {size / t['batch']:>9,.0f} decisions/s, "
            f"per-decision loop {size / t['loop']:>7,.0f} decisions/s, ratio {t['loop'] / t['batch']:.0f}x"
        )

    big = generate_instance(make_params("default", M=100, N=10_000, I=16), seed=0)
    one = PROBLEM.random_decisions(big, np.random.default_rng(0), 1)
    _ = big.gain_imn  # derived once per instance, like the solvers do
    t_big = best_of_interleaved({"big": lambda: model.evaluate(big, one["offload"], one["power_w"])}, args.repeats)[
        "big"
    ]
    print(f"(100,10000,16) one decision: {t_big * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
