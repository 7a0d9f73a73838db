"""Seed 004's claims, each checked against the stored runs of the experiment that reproduces it.

Every verdict is computed here from the runs (``experiments.claims.verdict``: agrees when every case
holds, disagrees when none does, partly otherwise); a claim whose methods have no stored runs is
'not measured'. Figs. 3-6 claims come from Section V-C, the queue claims from Section III-F, the
learning claims from Sections IV-A and V-C; a learning curve's convergence is judged by
``experiments.convergence`` (the tail against its own noise).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import FAILS, TIE, Claim, absent, fmt, not_measured, per_point, verdict
from offloadlab.experiments.convergence import episode_returns, judge_curve, training_cost
from offloadlab.papers.dt_vehicular.data import Key, biases, name, series, sizes, stats, term_table
from offloadlab.papers.dt_vehicular.figures import penalty, queue_runs

Table = dict[Key, dict[str, float]]
STABLE_RATIO = 1.1  # backlog averaged over the last quarter <= this times the third quarter's: not growing


def _absent(data: Table, needed: tuple[str, ...]) -> list[str]:
    return [s for s in needed if not any(k[0] == s for k in data)]


def _not_measured(exp: Experiment, fig: str, paper: str, missing: list[str]) -> Claim:
    return not_measured(exp.name, fig, paper, absent(map(name, missing)))


def trend(exp: Experiment, data: Table, fig: str, paper: str, term: str, rising: bool) -> Claim:
    """A term rises (or falls) with N for each of the paper's methods present, at every bias."""
    solvers = [s for s in ("llm-icl", "marl", "sarl") if not _absent(data, (s,))]
    if not solvers:
        return _not_measured(exp, fig, paper, ["llm-icl", "marl", "sarl"])

    def judge(point: tuple[str, float]) -> tuple[bool, str]:
        _, y = series(data, *point, term)
        ok = len(y) > 1 and bool(np.all(np.diff(y) > 0 if rising else np.diff(y) < 0))
        return ok, " -> ".join(map(fmt, y))

    points = [(s, df) for s in solvers for df in biases(data)]
    return per_point(exp.name, fig, paper, points, judge, lambda p: f"{name(p[0])} df={p[1]:g}", marker=FAILS)


def pointwise(
    exp: Experiment,
    data: Table,
    fig: str,
    paper: str,
    needed: tuple[str, ...],
    term: str,
    holds: Callable[[dict[str, float]], bool],
    dfs: tuple[float, ...] | None = None,
) -> Claim:
    """A comparison of methods on one term judged at every (bias, N) point (``dfs`` restricts the biases)."""
    if missing := _absent(data, needed):
        return _not_measured(exp, fig, paper, missing)
    points = [(df, n) for df in biases(data) if dfs is None or df in dfs for n in sizes(data)]

    def judge(point: tuple[float, int]) -> tuple[bool, str] | str:
        df, n = point
        vals = {s: data[(s, df, n)][term] for s in ("llm-icl", "marl", "sarl") if (s, df, n) in data}
        if not all(s in vals for s in needed):
            return "not every method stored"
        return holds(vals), ", ".join(f"{name(s)} {fmt(v)}" for s, v in vals.items())

    return per_point(exp.name, fig, paper, points, judge, lambda p: f"df={p[0]:g} N={p[1]}", marker=FAILS)


def bias_effect(exp: Experiment, data: Table, fig: str, paper: str, term: str) -> Claim:
    """The LLM's term is lower at the largest positive bias than at the most negative one, at every N."""
    dfs = biases(data)
    if missing := _absent(data, ("llm-icl",)):
        return _not_measured(exp, fig, paper, missing)
    if not dfs or dfs[0] >= 0 or dfs[-1] <= 0:
        return not_measured(exp.name, fig, paper, "the grid has no positive and negative bias")

    def judge(n: int) -> tuple[bool, str] | str:
        lo, hi = data.get(("llm-icl", dfs[0], n)), data.get(("llm-icl", dfs[-1], n))
        if not (lo and hi):
            return "not stored at both biases"
        return hi[term] < lo[term], f"df={dfs[-1]:g} {fmt(hi[term])} vs df={dfs[0]:g} {fmt(lo[term])}"

    return per_point(exp.name, fig, paper, sizes(data), judge, lambda n: f"N={n}", marker=FAILS)


def _highest(who: str) -> Callable[[dict[str, float]], bool]:
    """``who`` is above every other method by more than TIE (equal values are no ranking)."""
    return lambda v: all(v[who] > x + TIE * abs(x) for s, x in v.items() if s != who)


def _lowest(who: str) -> Callable[[dict[str, float]], bool]:
    """``who`` is below every other method by more than TIE."""
    return lambda v: all(v[who] < x - TIE * abs(x) for s, x in v.items() if s != who)


def figs3_6(exp: Experiment) -> list[Claim]:
    """The claims of Section V-C on Figs. 3-6."""
    d = term_table(exp)
    edge_dfs = (-0.5, 0.5)
    return [
        trend(exp, d, "fig3a", "System energy rises with N for every method", "energy_j", True),
        pointwise(
            exp,
            d,
            "fig3a",
            "SARL has the highest system energy (of LLM, MARL, SARL)",
            ("marl", "sarl"),
            "energy_j",
            _highest("sarl"),
        ),
        pointwise(
            exp,
            d,
            "fig3b",
            "LLM's system energy is below MARL's",
            ("llm-icl", "marl"),
            "energy_j",
            lambda v: v["llm-icl"] < v["marl"],
        ),
        bias_effect(exp, d, "fig3c", "LLM's energy is lower with a positive bias than with a negative one", "energy_j"),
        trend(exp, d, "fig4", "Task latency rises with N for every method", "latency_s", True),
        pointwise(
            exp,
            d,
            "fig4",
            "SARL has the highest latency (it cannot adapt to intense competition)",
            ("marl", "sarl"),
            "latency_s",
            _highest("sarl"),
        ),
        pointwise(
            exp,
            d,
            "fig4",
            "LLM's latency is below MARL's",
            ("llm-icl", "marl"),
            "latency_s",
            lambda v: v["llm-icl"] < v["marl"],
        ),
        bias_effect(
            exp, d, "fig4", "Latency is lower with a positive bias than with a negative one (LLM)", "latency_s"
        ),
        trend(exp, d, "fig5", "QoS falls as N grows for every method", "qos", False),
        _sarl_negative_qos(exp, d),
        pointwise(
            exp, d, "fig5", "LLM's QoS is above MARL's", ("llm-icl", "marl"), "qos", lambda v: v["llm-icl"] > v["marl"]
        ),
        pointwise(
            exp,
            d,
            "fig6",
            "SARL has the lowest edge energy (at delta_f = +-0.5)",
            ("marl", "sarl"),
            "edge_energy_j",
            _lowest("sarl"),
            edge_dfs,
        ),
        pointwise(
            exp,
            d,
            "fig6",
            "LLM's edge energy is above MARL's (at delta_f = +-0.5)",
            ("llm-icl", "marl"),
            "edge_energy_j",
            lambda v: v["llm-icl"] > v["marl"],
            edge_dfs,
        ),
        pointwise(
            exp,
            d,
            "fig6",
            "LLM's resource ratio is above MARL's (at delta_f = +-0.5)",
            ("llm-icl", "marl"),
            "resource_ratio",
            lambda v: v["llm-icl"] > v["marl"],
            edge_dfs,
        ),
    ]


def _sarl_negative_qos(exp: Experiment, d: Table) -> Claim:
    paper = "SARL's QoS turns negative at the largest number of vehicles"
    if missing := _absent(d, ("sarl",)):
        return _not_measured(exp, "fig5", paper, missing)
    n = sizes(d)[-1]
    vals = {df: d[("sarl", df, n)]["qos"] for df in biases(d) if ("sarl", df, n) in d}
    hits = sum(v < 0 for v in vals.values())
    return Claim(
        exp.name,
        "fig5",
        paper,
        f"N={n}: " + ", ".join(f"df={k:g} {fmt(v)}" for k, v in vals.items()),
        verdict(hits, len(vals)),
    )


def queue_claims(exp: Experiment) -> list[Claim]:
    """Section III-F: strong stability under drift-plus-penalty and the beta (= 1/V) trade-off."""
    runs = {beta: ds for (s, beta), ds in queue_runs(exp).items() if s == "lyapunov"}
    stable = "Drift-plus-penalty keeps every queue strongly stable, (17b)/(23): the time-average backlog is bounded"
    tradeoff = (
        "The trade-off factor trades penalty for backlog: as V = 1/beta grows the time-average penalty "
        "-U + E falls and the time-average backlog grows"
    )
    if not runs:
        return [not_measured(exp.name, "queues", p, absent(["Lyapunov"])) for p in (stable, tradeoff)]
    parts, hits = [], 0
    for beta, ds in sorted(runs.items()):
        q = np.mean([np.asarray(d["series"]["queue_bytes"], dtype=float) for d in ds], axis=0)
        T = len(q)
        third, last = q[T // 2 : 3 * T // 4].mean(), q[3 * T // 4 :].mean()
        ok = last <= STABLE_RATIO * max(third, 1.0)
        hits += ok
        parts.append(
            f"beta={beta:g}: mean backlog {third / 1e3:.3g} kB (3rd quarter) -> {last / 1e3:.3g} kB "
            f"(last quarter) of {T} slots{'' if ok else ' (growing)'}"
        )
    claims = [Claim(exp.name, "queues", stable, "; ".join(parts), verdict(hits, len(parts)))]
    by_v = sorted(runs.items(), reverse=True)  # descending beta = ascending V
    pen = [float(np.mean([penalty(d, b) for d in ds])) for b, ds in by_v]
    back = [float(np.mean([d["queue_bytes"] for d in ds])) for _, ds in by_v]
    steps = [(pen[j + 1] <= pen[j]) + (back[j + 1] >= back[j]) for j in range(len(by_v) - 1)]
    text = "; ".join(
        f"beta={b:g}: penalty {fmt(p)}, backlog {bk / 1e3:.3g} kB" for (b, _), p, bk in zip(by_v, pen, back)
    )
    claims.append(Claim(exp.name, "queues", tradeoff, text, verdict(sum(steps), 2 * len(steps))))
    return claims


def curves(exp: Experiment) -> dict[tuple[str, int], tuple[np.ndarray, dict]]:
    """Each stored training curve (one value per episode) by (solver, N), with the run's stats."""
    out = {}
    for rec in exp.records:
        st = stats(rec)
        rewards = np.asarray(episode_returns(st), dtype=float)
        if rewards.size:
            out[(rec.solver, int(rec.point.get("N", 0)))] = (rewards, st)
    return out


def learning_claims(exp: Experiment) -> list[Claim]:
    """MARL's case set comes from a converged training; SARL (local information) ends weaker than MARL."""
    conv = "MARL is trained to convergence before its case set is taken (its learning curve has settled)"
    weaker = "SARL, deciding on local information, does worse than MARL (higher mean P2)"
    trained = curves(exp)

    def settled(n: int) -> tuple[bool, str]:
        rewards, st = trained[("marl", n)]
        rule, (steps, wall) = judge_curve(rewards), training_cost(st)
        return rule.converged, f"{steps} slots in {wall:.0f} s, {rule.text()}"

    ns = sorted(n for s, n in trained if s == "marl")
    claims = [per_point(exp.name, "learning", conv, ns, settled, lambda n: f"N={n}")]
    obj: dict[tuple[str, int], list[float]] = {}
    for rec in exp.records:
        if rec.ok and rec.objective < math.inf:
            obj.setdefault((rec.solver, int(rec.point.get("N", 0))), []).append(rec.objective)

    def worse(n: int) -> tuple[bool, str]:
        s, m = float(np.mean(obj[("sarl", n)])), float(np.mean(obj[("marl", n)]))
        sarl_curve = trained.get(("sarl", n))
        note = f" (SARL's training {judge_curve(sarl_curve[0]).text()})" if sarl_curve else ""
        return s > m, f"SARL {fmt(s)}, MARL {fmt(m)}{note}"

    both = sorted({n for s, n in obj if s == "sarl"} & {n for s, n in obj if s == "marl"})
    claims.append(per_point(exp.name, "learning", weaker, both, worse, lambda n: f"N={n}"))
    return claims


CHECKS: dict[str, Callable[[Experiment], list[Claim]]] = {
    "figs3-6": figs3_6,
    "queues": queue_claims,
    "learning": learning_claims,
}


def check_claims(experiments: list[Experiment]) -> list[Claim]:
    """Every claim of seed 004 for the stored experiments (the nominal-reading sweep is a figure only)."""
    out: list[Claim] = []
    for exp in experiments:
        check = CHECKS.get(exp.figure or "")
        if check is not None:
            out += check(exp)
    return out
