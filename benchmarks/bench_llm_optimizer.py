"""The LLM optimizer against reference, GA and random choice on calibrated satellite-mec instances.

Run: .venv/bin/python benchmarks/bench_llm_optimizer.py --shapes 3,5,4 3,10,4 --models smollm2 gemma3-270m \
         --prompts expert paper
(``paper`` is the paper's wording and M x N one-hot answer format, ``expert`` the per-terminal default).
Appends one JSON line per run to --out (so a long sweep can be stopped and read at any time) and prints
a table: objective, gap to `reference`, LLM calls, tokens, invalid-answer rate and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from offloadlab.core.registry import get_scenario, solvers_for
from offloadlab.core.run import solve

BASELINES = ("reference", "ga", "random")


def run_one(data: dict, solver: str, seed: int, **options) -> dict:
    """Solve once and keep the figures of the table."""
    t0 = time.perf_counter()
    _, _, res = solve(data, solver, seed, **options)
    st = res.stats
    return {
        "solver": solver,
        "objective": res.objective,
        "feasible": res.feasible,
        "wall_s": round(time.perf_counter() - t0, 1),
        "evaluations": st.get("evaluations"),
        **{
            k: st[k]
            for k in (
                "llm_calls",
                "prompt_tokens",
                "completion_tokens",
                "invalid_outputs",
                "invalid_by_kind",
                "repaired",
                "retried",
                "iterations",
                "improvements",
                "initial_objective",
                "stop_reason",
                "model",
                "startup_evaluations",
                "usable_answers",
            )
            if k in st
        },
    }


def main() -> None:
    """Run the grid and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", nargs="+", default=["3,5,4", "3,10,4"], help="M,N,I of each instance")
    ap.add_argument("--models", nargs="+", default=["smollm2"])
    ap.add_argument("--prompts", nargs="+", default=["expert"], help="wordings to compare (e.g. expert paper)")
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--instance-seed", type=int, default=1)
    ap.add_argument("--out", default="llm_bench.jsonl")
    args = ap.parse_args()
    problem = get_scenario("satellite-mec")
    rows = []
    for shape in args.shapes:
        M, N, I = (int(x) for x in shape.split(","))
        data = problem.make_instance(args.instance_seed, "default", M=M, N=N, I=I)
        jobs = [(s, {}) for s in BASELINES if s in solvers_for(problem.id)]
        jobs += [
            ("llm", {"llm_model": m, "prompt": w, "iterations": args.iterations, "patience": args.patience})
            for m in args.models
            for w in args.prompts
        ]
        ref = None
        for solver, options in jobs:  # reference first: every gap is measured against it
            r = run_one(data, solver, args.seed, **options)
            ref = ref or r["objective"]
            r.update(shape=shape, gap_pct=round(100 * (r["objective"] / ref - 1), 2), prompt=options.get("prompt", ""))
            with Path(args.out).open("a") as fh:
                fh.write(json.dumps(r) + "\n")
            rows.append(r)
    print(
        f"{'shape':8} {'solver':10} {'model':12} {'prompt':7} {'objective':>10} {'gap %':>7} {'calls':>5} "
        f"{'tokens':>7} {'invalid':>7} {'improv':>6} {'wall s':>7}"
    )
    for r in rows:
        tokens = r.get("prompt_tokens", 0) + r.get("completion_tokens", 0)
        print(
            f"{r['shape']:8} {r['solver']:10} {r.get('model', ''):12} {r['prompt']:7} {r['objective']:10.4f} "
            f"{r['gap_pct']:7.2f} {r.get('llm_calls', 0):5d} {tokens:7d} {r.get('invalid_outputs', 0):7d} "
            f"{r.get('improvements', 0):6d} {r['wall_s']:7.1f}"
        )


if __name__ == "__main__":
    main()
