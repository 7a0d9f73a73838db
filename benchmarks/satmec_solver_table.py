"""Solver comparison on satellite-mec: mean latency ± std over instance seeds and the gap to `reference`.

Run (resumable: each finished run is appended to the cache and skipped when started again):

    nice -n 10 .venv/bin/python benchmarks/satmec_solver_table.py > satmec_table.md 2> satmec_table.log &
    .venv/bin/python benchmarks/satmec_solver_table.py --table-only     # tables from the cache so far
    .venv/bin/python benchmarks/satmec_solver_table.py --solvers ga --redo ga  # after changing the GA

For each preset (`default`, `paper`), each (M, N, I) and each instance seed it generates the instance
with the problem's ``make_instance``, runs every solver through ``offloadlab.core.run.solve`` (solver
seed = instance seed) and prints one markdown table per preset: mean latency ± std of the returned
decisions (feasible ones), the number of infeasible results, the mean number of offloaded terminals,
and the mean per-seed gap (method − reference) / reference over the seeds where both are feasible.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.registry import get_scenario
from offloadlab.core.run import solve

SIZES = ((3, 5, 4), (3, 10, 4), (3, 20, 4), (6, 20, 4))
SOLVERS = ("local", "random", "reference", "ga", "ddpg")


def settings(args: argparse.Namespace, solver: str, N: int) -> tuple[int | None, dict[str, Any]]:
    """Budget and options of one solver at one size."""
    if solver == "ga":
        return args.ga_budget, {}
    if solver == "random":
        return args.random_budget, {}
    if solver == "ddpg":
        return args.ddpg_budget, {}
    if solver == "reference" and N >= 20:
        return None, {"restarts": args.reference_restarts_n20}
    return None, {}


def run_key(
    preset: str, size: tuple[int, int, int], seed: int, solver: str, budget: int | None, options: dict[str, Any]
) -> str:
    """Cache key of one run: everything that determines its result."""
    return json.dumps([preset, list(size), seed, solver, budget, options], sort_keys=True)


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    """Finished runs by key (a truncated last line from an interrupted run is ignored)."""
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[rec["key"]] = rec
    return done


def run_one(
    preset: str, size: tuple[int, int, int], seed: int, solver: str, budget: int | None, options: dict[str, Any]
) -> dict[str, Any]:
    """Generate the instance, solve it, and return the record to cache."""
    M, N, I = size
    data = get_scenario("satellite-mec").make_instance(seed, preset, M=M, N=N, I=I)
    t0 = time.perf_counter()
    _, _, res = solve(data, solver, seed=seed, budget=budget, **options)
    return {
        "key": run_key(preset, size, seed, solver, budget, options),
        "preset": preset,
        "size": list(size),
        "seed": seed,
        "solver": solver,
        "budget": budget,
        "options": options,
        "feasible": res.feasible,
        "mean_latency_s": res.details.get("mean_latency_s"),
        "offloaded": int(np.sum(res.decision["offload"])),
        "evaluations": res.stats.get("evaluations"),
        "seconds": round(time.perf_counter() - t0, 3),
    }


def run_all(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Run every missing (solver, preset, size, seed) and return all records by key.

    Solver-major order: an interrupted run still leaves whole columns of the tables filled.
    """
    cache = Path(args.cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    done = load_cache(cache)
    for solver in args.solvers:
        for preset in args.presets:
            for size in SIZES:
                budget, options = settings(args, solver, size[1])
                for seed in range(args.seeds):
                    key = run_key(preset, size, seed, solver, budget, options)
                    if key in done and solver not in args.redo:
                        continue
                    rec = done[key] = run_one(preset, size, seed, solver, budget, options)
                    with cache.open("a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    print(
                        f"{preset} {size} seed {seed} {solver}: {rec['mean_latency_s']} "
                        f"feasible={rec['feasible']} {rec['seconds']}s",
                        file=sys.stderr,
                        flush=True,
                    )
    return done


def table(args: argparse.Namespace, done: dict[str, dict[str, Any]], preset: str) -> str:
    """Markdown table of one preset."""
    lines = [
        f"#### preset `{preset}`",
        "",
        "| (M,N,I) | " + " | ".join(args.solvers) + " |",
        "|---" * (len(args.solvers) + 1) + "|",
    ]
    for size in SIZES:
        recs = {}
        for solver in args.solvers:
            budget, options = settings(args, solver, size[1])
            recs[solver] = [done.get(run_key(preset, size, s, solver, budget, options)) for s in range(args.seeds)]
        ref = recs.get("reference", [None] * args.seeds)
        cells = [cell(recs[solver], None if solver == "reference" else ref) for solver in args.solvers]
        lines.append(f"| ({', '.join(map(str, size))}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cell(recs: list[dict[str, Any] | None], ref: list[dict[str, Any] | None] | None) -> str:
    """'mean ± std; gap (none for ref=None); offloaded; infeasible count' of one solver at one size."""
    ran = [r for r in recs if r is not None]
    if not ran:
        return "—"
    lat = [r["mean_latency_s"] for r in ran if r["feasible"]]
    gaps = [
        (r["mean_latency_s"] - q["mean_latency_s"]) / q["mean_latency_s"]
        for r, q in zip(recs, ref or [])
        if r and q and r["feasible"] and q["feasible"]
    ]
    parts = [f"{np.mean(lat):.4f} ± {np.std(lat):.4f}" if lat else "no feasible"]
    if gaps:
        parts.append(f"gap {100 * np.mean(gaps):+.1f}% (max {100 * np.max(gaps):+.1f}%)")
    parts.append(f"off {np.mean([r['offloaded'] for r in ran]):.1f}")
    if len(lat) < len(ran):
        parts.append(f"**{len(ran) - len(lat)} infeasible**")
    if len(ran) < len(recs):
        parts.append(f"{len(ran)}/{len(recs)} runs")
    return "; ".join(parts)


def main() -> None:
    """Run (or resume) the comparison and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default="benchmarks/results/satmec_solver_table.jsonl")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--presets", nargs="+", default=["default", "paper"])
    ap.add_argument("--solvers", nargs="+", default=list(SOLVERS))
    ap.add_argument("--ga-budget", type=int, default=120_000, help="evaluations of ga")
    ap.add_argument("--random-budget", type=int, default=40_000, help="evaluations of random")
    ap.add_argument("--ddpg-budget", type=int, default=1_000, help="environment steps of ddpg")
    ap.add_argument("--reference-restarts-n20", type=int, default=2, help="reference restarts at N = 20")
    ap.add_argument("--table-only", action="store_true", help="print the tables from the cache, run nothing")
    ap.add_argument(
        "--redo",
        nargs="+",
        default=[],
        metavar="SOLVER",
        help="run these solvers again even where cached (e.g. after changing them)",
    )
    args = ap.parse_args()
    done = load_cache(Path(args.cache)) if args.table_only else run_all(args)
    print(
        f"Settings: instance seeds 0..{args.seeds - 1} (solver seed = instance seed); ga "
        f"{args.ga_budget} and random {args.random_budget} evaluations; ddpg {args.ddpg_budget} environment steps; "
        "reference with "
        f"{args.reference_restarts_n20} restarts at N = 20 (default 4 otherwise).\n"
    )
    print(
        "Cells: mean latency (s) ± std over feasible results; mean gap to reference over seeds "
        "(max); mean number of offloaded terminals; infeasible results.\n"
    )
    for preset in args.presets:
        print(table(args, done, preset) + "\n")


if __name__ == "__main__":
    main()
