"""GA wall time over a plain batched evaluation of the same number of decisions, side by side.

Run: .venv/bin/python benchmarks/bench_ga.py [--budget 120000] [--rounds 3]
At (3,10,4) and (6,20,4) (satellite-mec, default preset, instance seed 0), each round times a GA
run of ``budget`` evaluations (paper settings: population 400, crossover 0.5, mutation 0.2) and,
right before it, ``problem.evaluate`` on ``budget`` pre-drawn random decisions in batches of the
GA's population (its own batch size; at (6,20,4) larger batches evaluate slower). Both run in this
process alternately, so load from other processes affects both alike; each round's ratio
GA / evaluation is printed, then the ratio of the best times. Issue 15 asks for <= 5x.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from offloadlab.solvers.ga import DEFAULT_BUDGET, solve_ga

SIZES = ((3, 10, 4), (6, 20, 4))
POP_SIZE = 400


def batched_evaluation(instance: object, decisions: dict[str, np.ndarray], batch: int) -> float:
    """Seconds to evaluate the decisions in consecutive batches of ``batch`` (the baseline)."""
    n = len(decisions["offload"])
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        PROBLEM.evaluate(instance, {k: v[start : start + batch] for k, v in decisions.items()})
    return time.perf_counter() - t0


def ga_run(instance: object, budget: int, seed: int) -> tuple[float, float]:
    """Seconds of one GA run and its objective."""
    t0 = time.perf_counter()
    res = solve_ga(PROBLEM, instance, budget, np.random.default_rng(seed), pop_size=POP_SIZE)
    return time.perf_counter() - t0, res.objective


def main() -> None:
    """Measure and print the ratios recorded in the docs."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="GA evaluations = decisions evaluated")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for M, N, I in SIZES:
        instance = PROBLEM.load_instance(PROBLEM.make_instance(0, "default", M=M, N=N, I=I))
        decisions = PROBLEM.random_decisions(instance, np.random.default_rng(0), args.budget)
        best_eval = best_ga = float("inf")
        for r in range(args.rounds):
            t_eval = batched_evaluation(instance, decisions, POP_SIZE)
            t_ga, objective = ga_run(instance, args.budget, seed=r)
            best_eval, best_ga = min(best_eval, t_eval), min(best_ga, t_ga)
            print(
                f"({M},{N},{I}) round {r}: GA {t_ga:6.2f} s (objective {objective:.4f}), "
                f"batched evaluation {t_eval:6.2f} s, ratio {t_ga / t_eval:4.1f}x"
            )
        print(
            f"({M},{N},{I}) {args.budget:,} evaluations: best GA {best_ga:.2f} s, best evaluation "
            f"{best_eval:.2f} s, ratio {best_ga / best_eval:.1f}x"
        )


if __name__ == "__main__":
    main()
