"""Seed 004's claims, each checked against the stored runs of the experiment that reproduces it.

Every verdict is computed here from the runs (``experiments.claims.verdict``: agrees when every case
holds, disagrees when none does, partly otherwise); a claim whose methods have no stored runs is
'not measured'. Figs. 3-6 claims come from Section V-C, the queue claims from Section III-F, the
learning claims from Sections IV-A and V-C.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import NOT_MEASURED, Claim, verdict
from offloadlab.papers.dt_vehicular.data import Key, biases, name, series, sizes, stats, term_table
from offloadlab.papers.dt_vehicular.figures import penalty, queue_runs

Table = dict[Key, dict[str, float]]
STABLE_RATIO = 1.1  # backlog averaged over the last quarter <= this times the third quarter's: not growing
TIE = 1e-3  # relative difference below which two methods' values count as equal
PLATEAU = 0.1  # last-fifth mean reward within this share of the curve's range of the fourth fifth's


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else "n/a"


def _absent(data: Table, needed: tuple[str, ...]) -> list[str]:
    return [s for s in needed if not any(k[0] == s for k in data)]


def _not_measured(exp: Experiment, fig: str, paper: str, absent: list[str]) -> Claim:
    return Claim(exp.name, fig, paper, f"no stored runs of {', '.join(map(name, absent))}", NOT_MEASURED)


def trend(exp: Experiment, data: Table, fig: str, paper: str, term: str, rising: bool) -> Claim:
    """A term rises (or falls) with N for each of the paper's methods present, at every bias."""
    solvers = [s for s in ("llm-icl", "marl", "sarl") if not _absent(data, (s,))]
    if not solvers:
        return _not_measured(exp, fig, paper, ["llm-icl", "marl", "sarl"])
    hits, parts = 0, []
    for s in solvers:
        for df in biases(data):
            _, y = series(data, s, df, term)
            ok = len(y) > 1 and bool(np.all(np.diff(y) > 0 if rising else np.diff(y) < 0))
            hits += ok
            parts.append(f"{name(s)} df={df:g}: {' -> '.join(map(_fmt, y))}{'' if ok else ' (no)'}")
    return Claim(exp.name, fig, paper, "; ".join(parts), verdict(hits, len(parts)))


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
    if absent := _absent(data, needed):
        return _not_measured(exp, fig, paper, absent)
    hits, parts = 0, []
    for df in [d for d in biases(data) if dfs is None or d in dfs]:
        for n in sizes(data):
            vals = {s: data[(s, df, n)][term] for s in ("llm-icl", "marl", "sarl") if (s, df, n) in data}
            if not all(s in vals for s in needed):
                continue
            ok = holds(vals)
            hits += ok
            parts.append(
                f"df={df:g} N={n}: "
                + ", ".join(f"{name(s)} {_fmt(v)}" for s, v in vals.items())
                + ("" if ok else " (no)")
            )
    if not parts:
        return Claim(exp.name, fig, paper, "no grid point with every method", NOT_MEASURED)
    return Claim(exp.name, fig, paper, "; ".join(parts), verdict(hits, len(parts)))


def bias_effect(exp: Experiment, data: Table, fig: str, paper: str, term: str) -> Claim:
    """The LLM's term is lower at the largest positive bias than at the most negative one, at every N."""
    dfs = biases(data)
    if absent := _absent(data, ("llm-icl",)):
        return _not_measured(exp, fig, paper, absent)
    if not dfs or dfs[0] >= 0 or dfs[-1] <= 0:
        return Claim(exp.name, fig, paper, "the grid has no positive and negative bias", NOT_MEASURED)
    hits, parts = 0, []
    for n in sizes(data):
        lo, hi = data.get(("llm-icl", dfs[0], n)), data.get(("llm-icl", dfs[-1], n))
        if lo and hi:
            ok = hi[term] < lo[term]
            hits += ok
            parts.append(
                f"N={n}: df={dfs[-1]:g} {_fmt(hi[term])} vs df={dfs[0]:g} {_fmt(lo[term])}" + ("" if ok else " (no)")
            )
    return Claim(exp.name, fig, paper, "; ".join(parts), verdict(hits, len(parts)))


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
    if absent := _absent(d, ("sarl",)):
        return _not_measured(exp, "fig5", paper, absent)
    n = sizes(d)[-1]
    vals = {df: d[("sarl", df, n)]["qos"] for df in biases(d) if ("sarl", df, n) in d}
    hits = sum(v < 0 for v in vals.values())
    return Claim(
        exp.name,
        "fig5",
        paper,
        f"N={n}: " + ", ".join(f"df={k:g} {_fmt(v)}" for k, v in vals.items()),
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
        return [Claim(exp.name, "queues", p, "no stored Lyapunov runs", NOT_MEASURED) for p in (stable, tradeoff)]
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
        f"beta={b:g}: penalty {_fmt(p)}, backlog {bk / 1e3:.3g} kB" for (b, _), p, bk in zip(by_v, pen, back)
    )
    claims.append(
        Claim(exp.name, "queues", tradeoff, text, verdict(sum(steps), 2 * len(steps)) if steps else NOT_MEASURED)
    )
    return claims


def learning_claims(exp: Experiment) -> list[Claim]:
    """MARL's case set comes from a converged training; SARL (local information) ends weaker than MARL."""
    conv = "MARL is trained to convergence before its case set is taken (its learning curve plateaus)"
    weaker = "SARL, deciding on local information, does worse than MARL (higher mean P2)"
    parts, hits = [], 0
    obj: dict[tuple[str, int], list[float]] = {}
    for rec in exp.records:
        st, n = stats(rec), int(rec.point.get("N", 0))
        if rec.ok and rec.objective < math.inf:
            obj.setdefault((rec.solver, n), []).append(rec.objective)
        rewards = np.asarray(st.get("training_episode_rewards") or [], dtype=float)
        if rec.solver == "marl" and rewards.size >= 10:
            fifth = rewards.size // 5
            span = float(np.ptp(rewards)) or 1.0
            gap = abs(rewards[-fifth:].mean() - rewards[-2 * fifth : -fifth].mean()) / span
            ok = gap <= PLATEAU
            hits += ok
            parts.append(
                f"N={n}: {st['training_steps']} slots in {st.get('training_wall_s', math.nan):.0f} s, "
                f"last-fifth change {gap:.1%} of the curve's range{'' if ok else ' (still moving)'}"
            )
    claims = [
        Claim(exp.name, "learning", conv, "; ".join(parts), verdict(hits, len(parts)))
        if parts
        else Claim(exp.name, "learning", conv, "no stored MARL training of 10+ episodes", NOT_MEASURED)
    ]
    ns = sorted({n for s, n in obj if s == "sarl"} & {n for s, n in obj if s == "marl"})
    cmp = [(n, float(np.mean(obj[("sarl", n)])), float(np.mean(obj[("marl", n)]))) for n in ns]
    claims.append(
        Claim(
            exp.name,
            "learning",
            weaker,
            "; ".join(f"N={n}: SARL {_fmt(s)}, MARL {_fmt(m)}" for n, s, m in cmp),
            verdict(sum(s > m for _, s, m in cmp), len(cmp)) if cmp else NOT_MEASURED,
        )
    )
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
