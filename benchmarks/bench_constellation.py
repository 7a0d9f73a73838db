"""satellite-mec at constellation scale: generation time, one evaluation's time and peak memory of the
sparse model for N = 1,000 .. 100,000 terminals with M from the shell, next to the dense model where it
fits; optionally the one-orbit time sweep through ``offloadlab run``.

Run: .venv/bin/python benchmarks/bench_constellation.py [--n 1000 10000 100000] [--sweep]
Each case runs in a fresh process, so that its peak resident memory (ru_maxrss) is its own. Printed per
case: visible pairs, seconds to generate the instance (orbits, visibility, fading), seconds to prepare it
for evaluation (gains, CSR, lookup tables: once per instance), the best of ``--repeats`` evaluations of
one decision (all-local; 10 % of the terminals offloading on one sub-channel; the random-choice rule,
where nearly every terminal transmits on every sub-channel: the worst case), the time of one read of
the gains and the worst case's ratio to it (a ratio that load on a shared machine affects less than
the seconds), peak RSS, and the parameter model's memory estimate. Dense: the same (M, N, I) through
``model.evaluate``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHELLS = {"starlink": {}, "6000": {"planes": 100, "per_plane": 60}}
DENSE_LIMIT_BYTES = 3 * 2**30  # dense cases whose parameter estimate is larger are not run


def best_time(fn, repeats: int) -> float:
    """Smallest wall time of ``fn`` over ``repeats`` calls (seconds)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def decisions(problem, inst, rng: np.random.Generator) -> dict[str, dict[str, np.ndarray]]:
    """All-local, 10 % offloading on one sub-channel at full power, and the random-choice rule."""
    local = {k: v[None] for k, v in problem.local_decision(inst).items()}
    rand = problem.random_decisions(inst, rng, 1)
    genome = problem.genome(inst)
    n, hi = inst.params.N, genome.hi[: inst.params.N]
    option = np.where((rng.random(n) < 0.1) & (hi > 0), 1 + np.floor(rng.random(n) * hi), 0)
    few = genome.decode(np.concatenate([option, np.full(n, inst.params.p_max_w)])[None])
    return {"local": local, "offload_10pct": few, "random": rand}


def sparse_case(shell: str, n: int, repeats: int) -> dict:
    """One sparse case, in this process."""
    from offloadlab.scenarios.satellite_mec.constellation import generate_scale_instance
    from offloadlab.scenarios.satellite_mec.problem import PROBLEM
    from offloadlab.scenarios.satellite_mec.scale_params import scale_params

    params = scale_params("starlink", N=n, **SHELLS[shell])
    t0 = time.perf_counter()
    inst = generate_scale_instance(params, seed=0)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = inst.gain_t, inst.pair_matrix, inst.pair_key, inst.by_terminal
    prep_s = time.perf_counter() - t0
    evals = {
        name: best_time(lambda d=d: PROBLEM.evaluate(inst, d), repeats)
        for name, d in decisions(PROBLEM, inst, np.random.default_rng(0)).items()
    }
    # one read of the [I, P] gains: the floor of any evaluation that touches every pair, measured in the
    # same process so that the ratio does not depend on how loaded the machine is
    evals["gain_pass"] = best_time(lambda: inst.gain_t.sum(), repeats)
    return {
        "model": "sparse",
        "M": params.M,
        "N": n,
        "I": params.I,
        "pairs": inst.pairs,
        "generate_s": gen_s,
        "prepare_s": prep_s,
        **{f"eval_{k}_s": v for k, v in evals.items()},
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "estimate_bytes": params.estimate_bytes(pairs=inst.pairs),
    }


def dense_case(m: int, n: int, i: int, repeats: int) -> dict:
    """The dense model at the same (M, N, I), in this process (params built unchecked: M > 1,000)."""
    from offloadlab.scenarios.satellite_mec import model
    from offloadlab.scenarios.satellite_mec.params import SatMecParams
    from offloadlab.scenarios.satellite_mec.problem import PROBLEM

    params = SatMecParams.model_construct(**{**SatMecParams().model_dump(), "M": m, "N": n, "I": i})
    t0 = time.perf_counter()
    inst = model.generate_instance(params, seed=0)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _ = inst.gain, inst.gain_imn
    prep_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    local = {k: v[None] for k, v in PROBLEM.local_decision(inst).items()}
    evals = {
        "local": best_time(lambda: PROBLEM.evaluate(inst, local), repeats),
        "random": best_time(lambda d=PROBLEM.random_decisions(inst, rng, 1): PROBLEM.evaluate(inst, d), repeats),
    }
    return {
        "model": "dense",
        "M": m,
        "N": n,
        "I": i,
        "pairs": m * n,
        "generate_s": gen_s,
        "prepare_s": prep_s,
        **{f"eval_{k}_s": v for k, v in evals.items()},
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "estimate_bytes": params.estimate_bytes(),
    }


def run_child(args: list[str]) -> dict:
    """Run one case in a fresh interpreter and return its JSON line."""
    out = subprocess.run([sys.executable, __file__, "--case", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_row(r: dict) -> str:
    """One table row."""
    evals = " ".join(f"{r.get(f'eval_{k}_s', float('nan')):>8.3f}" for k in ("local", "offload_10pct", "random"))
    ratio = r["eval_random_s"] / r["eval_gain_pass_s"] if "eval_gain_pass_s" in r else float("nan")
    evals += f" | {r.get('eval_gain_pass_s', float('nan')):>6.3f} | {ratio:>5.1f}"
    return (
        f"| {r['model']:<6} | {r['M']:>6} | {r['N']:>7} | {r['pairs']:>10,} | {r['generate_s']:>7.2f} | "
        f"{r['prepare_s']:>6.2f} | {evals} | {r['peak_rss_bytes'] / 2**30:>6.2f} | "
        f"{r['estimate_bytes'] / 2**30:>6.2f} |"
    )


def sweep(jobs: int, executor: str) -> None:
    """The one-orbit sweep spec through `offloadlab run`, timed, into a temporary store."""
    import tempfile

    spec = Path(__file__).parents[1] / "src/offloadlab/papers/satellite_mec/specs/sat_mec_constellation_orbit.yaml"
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "offloadlab", "run", str(spec), "--out", out, "--quiet", "--jobs", str(jobs)]
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--executor", executor], check=True)
        print(
            f"one-orbit sweep (96 instances x 2 solvers) with {executor}, {jobs} jobs: {time.perf_counter() - t0:.1f} s"
        )


def main() -> None:
    """Measure and print the table recorded in docs/satellite-mec-scale.md."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--shells", nargs="+", default=list(SHELLS), choices=list(SHELLS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sweep", action="store_true", help="also time the one-orbit sweep through `offloadlab run`")
    ap.add_argument("--executor", default="local", choices=["local", "ray"])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--case", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        kind, *rest = args.case
        r = (
            sparse_case(rest[0], int(rest[1]), args.repeats)
            if kind == "sparse"
            else dense_case(*(int(x) for x in rest), args.repeats)
        )
        print(json.dumps(r))
        return
    from offloadlab.scenarios.satellite_mec.params import SatMecParams

    print(
        "| model | M | N | pairs | gen s | prep s | eval s: local, 10 % offload, random | gain pass s | "
        "random / pass | RSS GiB | est GiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for shell in args.shells:
        for n in args.n:
            r = run_child(["sparse", shell, str(n), "--repeats", str(args.repeats)])
            print(fmt_row(r), flush=True)
            dense_bytes = SatMecParams.model_construct(M=r["M"], N=n, I=r["I"]).estimate_bytes()
            if dense_bytes <= DENSE_LIMIT_BYTES:
                print(fmt_row(run_child(["dense", str(r["M"]), str(n), str(r["I"]), "--repeats", str(args.repeats)])))
    if args.sweep:
        sweep(args.jobs, args.executor)


if __name__ == "__main__":
    main()
