"""'Paper claims vs measured': each claim of a paper is checked against the stored results of the
experiment that reproduces its figure, and written up with the numbers that decide it."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Cell, Experiment
from offloadlab.experiments.claims import (
    AGREES,
    CLOSE,
    DISAGREES,
    PARTLY,
    Claim,
    Judged,
    absent,
    close,
    fmt,
    not_measured,
    verdict,
)
from offloadlab.experiments.claims import per_point as judge_points

# Methods of seed 000's comparisons, by solver name, with the paper's names.
PAPER_NAMES = {"llm": "LLM", "ga": "GA", "ddpg": "DDPG", "random": "RC", "local": "PAL"}


def seconds(x: float) -> str:
    """A latency in seconds, 4 significant digits."""
    return fmt(x, "s")


def solver_cells(exp: Experiment, point: dict[str, Any], solvers: list[str]) -> dict[str, Cell]:
    """The (first-label) cell of each listed solver present in the experiment, with a feasible mean."""
    out = {}
    for s in solvers:
        labels = exp.labels_of(s)
        if labels:
            c = exp.cell(labels[0], point)
            if math.isfinite(c.mean):
                out[s] = c
    return out


def _name(solver: str) -> str:
    return PAPER_NAMES.get(solver, solver)


def _missing(exp: Experiment, fig: str, paper: str, needed: list[str]) -> Claim | None:
    gone = [s for s in needed if not any(exp.cell(lab, p).feasible for lab in exp.labels_of(s) for p in exp.points)]
    return not_measured(exp.name, fig, paper, "feasible " + absent(map(_name, gone))) if gone else None


def per_point(
    exp: Experiment,
    fig: str,
    paper: str,
    needed: list[str],
    solvers: list[str],
    judge: Callable[[dict[str, Cell]], tuple[bool, str]],
) -> Claim:
    """Judge every grid point from the cells of ``solvers``: ``judge(cells) -> (claim holds, text)``."""
    if miss := _missing(exp, fig, paper, needed):
        return miss

    def at(p: dict[str, Any]) -> Judged:
        cells = solver_cells(exp, p, solvers)
        lacking = [_name(s) for s in needed if s not in cells]
        return judge(cells) if not lacking else f"no feasible runs of {', '.join(lacking)}"

    return judge_points(exp.name, fig, paper, exp.points, at, exp.point_label)


# ---- Fig. 4: latency vs number of terminals -------------------------------------------------------------


def fig4_lowest_mean(exp: Experiment) -> Claim:
    """LLM has the lowest mean latency at every N."""

    def judge(cells: dict[str, Cell]) -> tuple[bool, str]:
        best = min(cells, key=lambda s: cells[s].mean)
        extra = "" if best == "llm" else f", LLM {seconds(cells['llm'].mean)}"
        return best == "llm", f"lowest {_name(best)} {seconds(cells[best].mean)}{extra}"

    return per_point(
        exp,
        "fig4",
        "LLM achieves the lowest mean latency for every number of terminals N (vs GA, DDPG, RC, PAL)",
        ["llm"],
        list(PAPER_NAMES),
        judge,
    )


def fig4_smallest_std(exp: Experiment) -> Claim:
    """LLM has the smallest standard deviation at every N."""

    def judge(cells: dict[str, Cell]) -> tuple[bool, str]:
        spread = {s: c.std for s, c in cells.items() if math.isfinite(c.std)}  # std needs two feasible runs
        text = "std " + ", ".join(
            f"{_name(s)} {c.std:.3g} s" if math.isfinite(c.std) else f"{_name(s)} n/a (one run)"
            for s, c in cells.items()
        )
        return bool(spread) and min(spread, key=lambda s: spread[s]) == "llm", text

    return per_point(
        exp,
        "fig4",
        "LLM has the smallest standard deviation for every N (vs GA and DDPG)",
        ["llm"],
        ["llm", "ga", "ddpg"],
        judge,
    )


def fig4_ranking(exp: Experiment) -> Claim:
    """LLM, then GA, then DDPG at every N."""

    def judge(cells: dict[str, Cell]) -> tuple[bool, str]:
        order = sorted(cells, key=lambda s: cells[s].mean)
        return order == ["llm", "ga", "ddpg"], " < ".join(_name(s) for s in order)

    trio = ["llm", "ga", "ddpg"]
    return per_point(exp, "fig4", "Mean latency ranks LLM < GA < DDPG for every N", trio, trio, judge)


def fig4_rises_with_n(exp: Experiment) -> Claim:
    """Latency rises with N for all schemes."""
    paper = "Mean latency rises with N for every scheme"
    x = (exp.spec.get("plot") or {}).get("x", "N")
    points = sorted(exp.points, key=lambda p: p[x])
    parts, hits, total = [], 0, 0
    for s in PAPER_NAMES:
        found = [solver_cells(exp, p, [s]).get(s) for p in points]
        means = [c for c in found if c is not None]
        if len(means) < len(found):
            continue
        vals = np.array([c.mean for c in means])
        rising = bool(np.all(np.diff(vals) > 0))
        hits += rising
        total += 1
        parts.append(f"{_name(s)} {' -> '.join(f'{v:.3g}' for v in vals)}{'' if rising else ' (not monotone)'}")
    if not total:
        return not_measured(exp.name, "fig4", paper, "no method has results at every N")
    return Claim(exp.name, "fig4", paper, "; ".join(parts), verdict(hits, total))


# ---- Fig. 3: convergence at (3, 10, 4) -------------------------------------------------------------------


def converged_at(exp: Experiment, label: str, axis: str) -> list[float]:
    """Per stored run, where on ``axis`` the best objective last improved (its convergence point)."""
    out = []
    for rec in exp.records:
        if rec.label == label and rec.ok and rec.data.get("history"):
            hist = rec.data["history"]
            final = hist[-1]["best_objective"]
            first = next(h for h in hist if h["best_objective"] == final)
            out.append(float(first[axis]))
    return out


def final_mean(exp: Experiment, label: str) -> float:
    """Mean final objective of a label over its stored runs (feasible only)."""
    return exp.cell(label, exp.points[0]).mean


def _llm_labels(exp: Experiment) -> list[str]:
    return exp.labels_of("llm")


def llm_iterations(rec: Any) -> tuple[int, list[int]]:
    """Iterations an LLM run made and those (1-based) that improved its example pool, from the stored
    trajectory and the pool's initial best."""
    traj = json.loads(rec.row.get("details_json") or "{}").get("trajectory") or []
    best = json.loads(rec.row.get("stats_json") or "{}").get("initial_objective")
    best = math.inf if best is None else best
    improved = []
    for t in traj:
        if t["best"] is not None and t["best"] < best:
            improved.append(int(t["iteration"]))
            best = t["best"]
    return len(traj), improved


def fig3_iterations(exp: Experiment) -> Claim:
    """LLM variants converge within 40-200 iterations."""
    paper = "LLM (t = 0.5, 0.7, 1) converges within 40 to 200 iterations"
    if miss := _missing(exp, "fig3", paper, ["llm"]):
        return miss
    parts, hits, total = [], 0, 0
    for lab in _llm_labels(exp):
        for rec in (r for r in exp.records if r.label == lab and r.ok):
            runs, improved = llm_iterations(rec)
            # converged: it improved on its initial pool, then stayed put for the last quarter of its run
            converged = bool(improved) and improved[-1] <= min(200, 0.75 * runs)
            hits += converged
            total += 1
            parts.append(
                f"{lab}: {len(improved)} improvements in {runs} iterations"
                + (f", the last at iteration {improved[-1]}" if improved else " (never beat its initial pool)")
            )
    return Claim(exp.name, "fig3", paper, "; ".join(parts), verdict(hits, total))


def fig3_faster(exp: Experiment) -> Claim:
    """LLM converges faster than GA and DDPG."""
    paper = "LLM converges significantly faster than GA and DDPG"
    if miss := _missing(exp, "fig3", paper, ["llm", "ga"]):
        return miss
    labels = _llm_labels(exp) + exp.labels_of("ga")[:1] + exp.labels_of("ddpg")[:1]
    rows = {
        lab: (np.mean(converged_at(exp, lab, "evaluations")), np.mean(converged_at(exp, lab, "seconds")))
        for lab in labels
        if converged_at(exp, lab, "evaluations")
    }
    llm_evals = min(v[0] for lab, v in rows.items() if exp.solver_of(lab) == "llm")
    others = [v[0] for lab, v in rows.items() if exp.solver_of(lab) != "llm"]
    stuck = [
        lab for lab in _llm_labels(exp) for r in exp.records if r.label == lab and r.ok and not llm_iterations(r)[1]
    ]
    text = "; ".join(f"{lab}: best reached after {e:.0f} evaluations, {t:.3g} s" for lab, (e, t) in rows.items())
    if stuck:
        text += f" ({', '.join(stuck)}: never improved on the random initial pool, so its 'convergence' is the pool)"
    return Claim(
        exp.name,
        "fig3",
        paper,
        text + " (decided on the evaluation axis)",
        AGREES if all(llm_evals < o for o in others) and not stuck else DISAGREES,
    )


def fig3_lower(exp: Experiment) -> Claim:
    """LLM ends lower than GA and DDPG."""
    paper = "LLM reaches a lower average latency than GA and DDPG"
    if miss := _missing(exp, "fig3", paper, ["llm", "ga"]):
        return miss
    llm = {lab: final_mean(exp, lab) for lab in _llm_labels(exp)}
    base = {lab: final_mean(exp, lab) for s in ("ga", "ddpg") for lab in exp.labels_of(s)}
    best_llm = min(v for v in llm.values() if math.isfinite(v))
    ref = exp.reference_label
    text = "; ".join(f"{lab} {seconds(v)}" for lab, v in {**llm, **base}.items())
    if ref:
        text += f"; {ref} {seconds(final_mean(exp, ref))}"
    return Claim(exp.name, "fig3", paper, text, AGREES if all(best_llm < v for v in base.values()) else DISAGREES)


def fig3_temperature(exp: Experiment) -> Claim:
    """t = 1 gives the best latency among the temperatures."""
    paper = "t = 1 gives the best balance of convergence speed and latency among t = 0.5, 0.7, 1"
    by_t = {}
    for lab in _llm_labels(exp):
        opts = next(r.options for r in exp.records if r.label == lab)
        if "temperature" in opts and "prompt" not in opts and math.isfinite(final_mean(exp, lab)):
            by_t[float(opts["temperature"])] = final_mean(exp, lab)
    if len(by_t) < 2 or 1.0 not in by_t:
        return not_measured(exp.name, "fig3", paper, "needs LLM runs at t = 1 and another temperature")
    text = "final latency " + ", ".join(f"t={t:g}: {seconds(v)}" for t, v in sorted(by_t.items()))
    if max(by_t.values()) - min(by_t.values()) <= 1e-9 * abs(min(by_t.values())):
        # a tie does not show that t = 1 is better, nor that it is worse
        return Claim(exp.name, "fig3", paper, text + " (a tie: the temperature made no difference)", PARTLY)
    return Claim(exp.name, "fig3", paper, text, AGREES if by_t[1.0] <= min(by_t.values()) else DISAGREES)


def fig3_prompt(exp: Experiment) -> Claim:
    """A differently worded prompt performs close to the default one."""
    paper = f"A different prompt wording (DP) performs close to the default prompt (here: within {CLOSE:.0%})"
    variants = {lab: next(r.options for r in exp.records if r.label == lab) for lab in _llm_labels(exp)}
    dp = [lab for lab, o in variants.items() if "prompt" in o]
    if not dp:
        return not_measured(exp.name, "fig3", paper, "no LLM entry with a prompt option")
    parts, hits = [], 0
    for lab in dp:
        same_t = [
            b
            for b, o in variants.items()
            if "prompt" not in o and o.get("temperature") == variants[lab].get("temperature")
        ]
        if not same_t:
            continue
        a, b = final_mean(exp, lab), final_mean(exp, same_t[0])
        if not (math.isfinite(a) and math.isfinite(b) and b > 0):
            continue
        rel = abs(a - b) / b
        hits += close(a, b)
        parts.append(f"{lab} {seconds(a)} vs {same_t[0]} {seconds(b)} ({rel:.1%} apart)")
    if not parts:
        why = "needs feasible runs of the DP entry and of the default prompt at the same temperature"
        return not_measured(exp.name, "fig3", paper, why)
    return Claim(exp.name, "fig3", paper, "; ".join(parts), verdict(hits, len(parts)))


# ---- Fig. 5: (N, M, I) grid ------------------------------------------------------------------------------

HARD_POINTS = [(20, 6, 4), (20, 6, 8), (20, 3, 8)]


def _nmi(p: dict[str, Any]) -> tuple:
    return (p.get("N"), p.get("M"), p.get("I"))


def fig5_beats_rc(exp: Experiment) -> Claim:
    """LLM beats RC everywhere."""

    def judge(c: dict[str, Cell]) -> tuple[bool, str]:
        return c["llm"].mean < c["random"].mean, f"LLM {seconds(c['llm'].mean)} vs RC {seconds(c['random'].mean)}"

    pair = ["llm", "random"]
    return per_point(exp, "fig5", "LLM outperforms RC at every (N, M, I)", pair, pair, judge)


def fig5_ga_wins_hard(exp: Experiment) -> Claim:
    """GA beats LLM at the three large points, LLM beats GA elsewhere."""
    paper = (
        "GA outperforms LLM at (20,6,4), (20,6,8), (20,3,8); LLM is ahead of GA at the other points "
        "(implied by 'outperformed ... for the scenarios of')"
    )
    pair = ["llm", "ga"]

    def judge(c: dict[str, Cell]) -> tuple[bool, str]:
        ga_wins = c["ga"].mean < c["llm"].mean
        return ga_wins == (_nmi(c["ga"].point) in HARD_POINTS), (
            f"{'GA' if ga_wins else 'LLM'} lower (GA {seconds(c['ga'].mean)}, LLM {seconds(c['llm'].mean)})"
        )

    return per_point(exp, "fig5", paper, pair, pair, judge)


# ---- Table I read literally ------------------------------------------------------------------------------


def table1_all_local(exp: Experiment) -> Claim:
    """With Table I literally (P_IoT = 0.2 mW), nothing beats processing all locally."""
    paper = (
        "Offloading with the proposed scheme lowers latency below processing all locally (PAL) with the "
        "parameters of Table I (P_IoT = 0.2 mW)"
    )
    if miss := _missing(exp, "table1", paper, ["local"]):
        return miss
    parts, beats = [], 0
    for p in exp.points:
        cells = {lab: exp.cell(lab, p) for lab in exp.labels}
        local = cells[exp.labels_of("local")[0]].mean
        parts.append(f"{exp.point_label(p)}: PAL {seconds(local)}")
        for lab, c in cells.items():
            if exp.solver_of(lab) != "local":
                beats += math.isfinite(c.mean) and c.mean < local * (1 - 1e-9)
                parts.append(f"{lab} {seconds(c.mean)} ({c.feasible}/{c.stored} feasible)")
    verdict = AGREES if beats else DISAGREES
    note = "" if beats else " — no method offloads: every upload misses the 1 s deadline, so PAL is optimal"
    return Claim(exp.name, "table1", paper, "; ".join(parts) + note, verdict)


CHECKS: dict[str, list[Callable[[Experiment], Claim]]] = {
    "fig3": [fig3_iterations, fig3_faster, fig3_lower, fig3_temperature, fig3_prompt],
    "fig4": [fig4_lowest_mean, fig4_smallest_std, fig4_ranking, fig4_rises_with_n],
    "fig5": [fig5_beats_rc, fig5_ga_wins_hard],
    "table1": [table1_all_local],
}


def check_claims(experiments: list[Experiment]) -> list[Claim]:
    """Every seed-000 claim that applies to a stored experiment, by its figure."""
    return [check(exp) for exp in experiments for check in CHECKS.get(exp.figure or "", [])]
