"""The LLM optimizer against `reference`, the GA and a random-proposal control on calibrated satellite-mec instances.

Run (the acceptance benchmark of the LLM optimizer; about an hour on 2 cores):
    .venv/bin/python benchmarks/bench_llm_optimizer.py --shapes 3,5,4 3,10,4 --instance-seeds 1-10 \
        --variants expert paper random --iterations 30 --patience 10 --out results/bench/llm_bench.jsonl

The tuned optimizer (an extension: ``llm-tuned``, the same loop with the fine-tuned proposer) against the
random-proposal control and `reference` (minutes on 2 cores):
    .venv/bin/python benchmarks/bench_llm_optimizer.py --shapes 3,5,4 3,10,4 --instance-seeds 1-10 \
        --variants tuned random --baselines --iterations 30 --patience 10 --out results/bench/llm_tuned.jsonl

Variants: ``expert`` = the default prompt and per-terminal answer format (integer mW powers); ``paper`` = the
paper's wording with its M x N one-hot answer format; ``random`` = the same loop and format with the
random-proposal control in place of the model (``--llm-backend random``): the LLM helps only where it beats it;
``tuned`` = ``llm-tuned``; ``tuned-uniform`` = its loop and rewriting with uniformly drawn digits (no model: what
the loop gains without the model). With ``tuned`` in the rows, its acceptance lines follow the table.
Appends one JSON line per run to --out and skips runs already there (stop and resume at will), then prints a
per-run table and the summary table of the README: mean ratio to `reference`, runs that improved on their
starting pool, invalid answers per call, seconds per LLM call (also split into the first call, which evaluates
the whole prompt, and the later ones, which reuse its static prefix from llama.cpp's cache) and generated
tokens per second. A short run of the per-call time at (3,10,4):
    .venv/bin/python benchmarks/bench_llm_optimizer.py --shapes 3,10,4 --instance-seeds 1 --variants expert \
        --baselines --iterations 4 --out results/bench/llm_calls_3104.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from offloadlab.core.registry import get_scenario
from offloadlab.core.run import solve

KEPT = (
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "llm_seconds",
    "invalid_outputs",
    "invalid_by_kind",
    "repaired",
    "answer_status",
    "structured_mode",
    "iterations",
    "improvements",
    "initial_objective",
    "stop_reason",
    "model",
    "startup_evaluations",
)
VARIANTS: dict[str, dict[str, Any]] = {
    "expert": {"prompt": "expert"},
    "paper": {"prompt": "paper"},
    "random": {"prompt": "expert", "llm_backend": "random"},
    "tuned": {"solver": "llm-tuned"},  # the extension: the same loop, the fine-tuned proposer
    "tuned-uniform": {"solver": "llm-tuned", "digits": "uniform"},  # its rewriting with uniform digits, no model
}
LLM_SOLVERS = ("llm", "llm-tuned")


def seeds(text: str) -> list[int]:
    """'1-10' or '1,4,7' as a list of seeds."""
    if "-" in text:
        lo, hi = (int(x) for x in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(x) for x in text.split(",")]


def run_one(data: dict, solver: str, seed: int, **options: Any) -> dict:
    """Solve once and keep the figures of the table; for an LLM run also the seconds of its first call (the
    whole prompt evaluated) and of the later ones (the static prefix reused from llama.cpp's cache)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "calls.jsonl"
        if solver in LLM_SOLVERS:
            options = {**options, "llm_record": str(record)}
        _, _, res = solve(data, solver, seed, **options)
        calls = [json.loads(line)["reply"] for line in record.read_text().splitlines()] if record.is_file() else []
    row = {
        "solver": solver,
        "objective": res.objective,
        "feasible": res.feasible,
        "wall_s": round(time.perf_counter() - t0, 1),
        **{k: res.stats[k] for k in KEPT if k in res.stats},
    }
    if calls:
        row["first_call_s"] = round(calls[0]["seconds"], 2)
        row["later_call_s"] = round(statistics.fmean(c["seconds"] for c in calls[1:]), 2) if len(calls) > 1 else None
        row["prompt_tokens_first"] = calls[0]["prompt_tokens"]
    return row


def summarise(rows: list[dict]) -> list[dict]:
    """Per shape and variant: mean ratio to reference, improved runs, invalid per call, s per call, tokens/s."""
    ref = {(r["shape"], r["instance_seed"]): r["objective"] for r in rows if r["variant"] == "reference"}
    out = []
    for shape in dict.fromkeys(r["shape"] for r in rows):
        for variant in dict.fromkeys(r["variant"] for r in rows):
            rs = [r for r in rows if r["shape"] == shape and r["variant"] == variant]
            if not rs:
                continue
            ratios = [r["objective"] / ref[(shape, r["instance_seed"])] for r in rs]
            calls = sum(r.get("llm_calls", 0) for r in rs)
            llm_s = sum(r.get("llm_seconds", 0.0) for r in rs)
            gen = sum(r.get("completion_tokens", 0) for r in rs)
            start = [r["initial_objective"] / ref[(shape, r["instance_seed"])] for r in rs if "initial_objective" in r]
            out.append(
                {
                    "shape": shape,
                    "variant": variant,
                    "runs": len(rs),
                    "mean_ratio": statistics.fmean(ratios),
                    "start_ratio": statistics.fmean(start) if start else None,
                    "improved_runs": sum(r.get("improvements", 0) > 0 for r in rs) if calls else None,
                    "calls_per_run": calls / len(rs) if calls else None,
                    "invalid_per_call": sum(r.get("invalid_outputs", 0) for r in rs) / calls if calls else None,
                    "s_per_call": llm_s / calls if calls and llm_s else None,
                    "tokens_per_s": gen / llm_s if llm_s else None,
                    "first_call_s": _mean([r.get("first_call_s") for r in rs]),
                    "later_call_s": _mean([r.get("later_call_s") for r in rs]),
                }
            )
    return out


def _mean(values: list[float | None]) -> float | None:
    """Mean of the figures a run has (None when no run has one)."""
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def variant_job(variant: str, llm: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The solver and options of a variant (``llm-tuned`` has its own model and answer format)."""
    options = {**llm, **VARIANTS[variant]}
    solver = options.pop("solver", "llm")
    if solver == "llm-tuned":
        options.pop("llm_model", None)
    return solver, options


def criteria(
    rows: list[dict], variant: str = "tuned", controls: tuple[str, ...] = ("random", "tuned-uniform")
) -> list[str]:
    """The acceptance lines of the tuned optimizer: runs that improved on their starting pool, paired seeds
    against the random-proposal control (and the uniform-digit control, where run), and the mean ratio to
    `reference` per shape (computed)."""
    ref = {(r["shape"], r["instance_seed"]): r["objective"] for r in rows if r["variant"] == "reference"}
    mine = {(r["shape"], r["instance_seed"]): r for r in rows if r["variant"] == variant}
    if not mine:
        return []
    improved = sum(r.get("improvements", 0) > 0 for r in mine.values())
    lines = [f"{variant}: improved on its starting pool in {improved} of {len(mine)} runs (criterion: >= 75 %)"]
    for control in controls:
        lines += _paired(mine, rows, variant, control)
    for shape in dict.fromkeys(k[0] for k in mine):
        ratios = [r["objective"] / ref[k] for k, r in mine.items() if k[0] == shape and k in ref]
        if ratios:
            lines.append(f"{variant} at ({shape}): mean ratio to reference {statistics.fmean(ratios):.3f} over "
                         f"{len(ratios)} seeds (criterion at (3,5,4): <= 1.25)")  # fmt: skip
    return lines


def _paired(mine: dict, rows: list[dict], variant: str, control: str) -> list[str]:
    """The paired-seed line of ``variant`` against ``control`` (none when the control was not run)."""
    rc = {(r["shape"], r["instance_seed"]): r["objective"] for r in rows if r["variant"] == control}
    pairs = [(mine[k]["objective"], rc[k]) for k in mine if k in rc]
    if not pairs:
        return []
    wins = sum(a < b - 1e-12 for a, b in pairs)
    losses = sum(a > b + 1e-12 for a, b in pairs)
    ratio = statistics.fmean(a / b for a, b in pairs)
    return [
        f"{variant} vs {control} on {len(pairs)} paired seeds: {wins} wins, {losses} losses, "
        f"{len(pairs) - wins - losses} ties, mean ratio {ratio:.3f}"
        + (" (criterion: more wins than losses)" if control == "random" else "")
    ]


def fmt(x: Any, spec: str) -> str:
    """A table cell; '-' where a figure does not apply."""
    return "-" if x is None else format(x, spec)


def main() -> None:
    """Run the grid (resuming from --out) and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=["3,5,4", "3,10,4"], help="M,N,I of each instance")
    ap.add_argument("--instance-seeds", default="1-10", help="instances: '1-10' or '1,4,7'")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--baselines", nargs="*", default=["ga"], help="further solvers besides reference")
    ap.add_argument("--llm-model", default="smollm2")
    ap.add_argument("--llm-threads", type=int, default=None, help="llama.cpp threads (default: the machine's)")
    ap.add_argument("--iterations", type=int, default=30, help="prompts per run (each with its re-asks)")
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0, help="solver seed")
    ap.add_argument("--out", default="llm_bench.jsonl")
    ap.add_argument("--summary-only", action="store_true", help="print the tables of --out without running")
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    done = {(r["shape"], r["instance_seed"], r["variant"]) for r in rows}
    problem = get_scenario("satellite-mec")
    llm = {"iterations": args.iterations, "patience": args.patience, "llm_model": args.llm_model}
    if args.llm_threads:
        llm["llm_threads"] = args.llm_threads
    for shape in [] if args.summary_only else args.shapes:
        M, N, I = (int(x) for x in shape.split(","))
        for s in seeds(args.instance_seeds):
            data = problem.make_instance(s, "default", M=M, N=N, I=I)
            jobs = [(b, b, {}) for b in ["reference", *args.baselines]]
            jobs += [(v, *variant_job(v, llm)) for v in args.variants]
            for variant, solver, options in jobs:
                if (shape, s, variant) in done:
                    continue
                r = {
                    "shape": shape,
                    "instance_seed": s,
                    "variant": variant,
                    **run_one(data, solver, args.seed, **options),
                }
                with out.open("a") as fh:
                    fh.write(json.dumps(r) + "\n")
                rows.append(r)
                print(f"{shape} seed {s} {variant}: {r['objective']:.4f} ({r['wall_s']} s)", flush=True)
    print(
        "\n| shape | variant | runs | mean ratio to reference | start ratio | improved runs | calls/run "
        "| invalid/call | s/call | first call s | later calls s | tokens/s |\n" + "|---" * 12 + "|"
    )
    for t in summarise(rows):
        print(
            f"| ({t['shape']}) | {t['variant']} | {t['runs']} | {t['mean_ratio']:.3f} | {fmt(t['start_ratio'], '.3f')} "
            f"| {fmt(t['improved_runs'], 'd')} | {fmt(t['calls_per_run'], '.1f')} "
            f"| {fmt(t['invalid_per_call'], '.2f')} | {fmt(t['s_per_call'], '.1f')} | {fmt(t['first_call_s'], '.1f')} "
            f"| {fmt(t['later_call_s'], '.1f')} | {fmt(t['tokens_per_s'], '.1f')} |"
        )
    for line in criteria(rows):
        print(line)


if __name__ == "__main__":
    main()
