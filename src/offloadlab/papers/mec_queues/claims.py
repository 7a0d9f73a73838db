"""COMLLM's claims checked against the stored runs, one row per claim and world.

Sources: the abstract (near-optimal latency, improved fairness, zero-shot topological scalability) and the
page's generated summary ("lowest average latency (≈3.07 ms) and zero task-drop rate across all tested
topologies, outperforming DRL, heuristic, and SFT baselines", "6-server ... generalizes to 11-server",
"Jain's index ≈0.87"). Each claim is judged in both worlds: open loop (the authors' one-step formula on a
fixed test set, slots) and closed loop (the episode in the simulator). Claims about COMLLM are NOT_MEASURED
until runs of the solver ``comllm`` are stored; the text then gives the stored methods' numbers. Oracles are
the label sources and are shown for reference, never counted as competitors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import CLOSE, DISAGREES, NOT_MEASURED, Claim, Judged, close, per_point
from offloadlab.papers.mec_queues.data import (
    CLOSED,
    OPEN,
    ORACLES,
    PROPOSED,
    RETRAINED,
    WORLD_NAMES,
    Row,
    fmt,
    min_delay_slots,
    point_name,
    rows,
)

FIG_TABLE, FIG_ZEROSHOT, FIG_ARRIVAL = "two-worlds", "zeroshot", "arrival"
WORLDS = (OPEN, CLOSED)
JAIN_TOL = 0.03  # "Jain ≈ 0.87": within ± 0.03
NEAR_OPTIMAL_PCT = 95.0  # "near-optimal": at least 95 % of the oracle (oracle mean / mean x 100)
ZERO_SHOT_KEEP = 0.9  # "generalizes": keeps at least 90 % of its ratio to the oracle at the training count
PAPER_LATENCY_MS, PAPER_JAIN = 3.07, 0.87
# Per world: the latency key and unit, the drop key and its scale to %, the fairness key and its scale to [0, 1],
# the ratio to the oracle (open: the authors' performance ratio vs comllm-oracle; closed: vs greedy-oracle).
LATENCY = {OPEN: ("mean_cost_slots", "slots"), CLOSED: ("mean_delay_slots", "slots")}
DROP = {OPEN: ("drop_rate_pct", 1.0), CLOSED: ("drop_rate", 100.0)}
FAIR = {OPEN: ("jain_max_id_pct", 0.01), CLOSED: ("jain_work", 1.0)}
RATIO = {OPEN: "performance_ratio_pct", CLOSED: "ratio_to_greedy_pct"}
FAIR_NAME = {OPEN: "Jain over choices, n = highest id chosen (the authors')", CLOSED: "Jain over processed work"}

Judge = Callable[[Row, list[Row]], tuple[bool, str]]


def groups(exp: Experiment) -> list[list[Row]]:
    """The experiment's rows grouped by grid point, in point order."""
    out: dict[str, list[Row]] = {}
    for r in rows(exp):
        out.setdefault(point_name(r), []).append(r)
    return list(out.values())


def latency(r: Row, world: str) -> float:
    """The row's mean latency (slots) in a world."""
    return r.value(world, LATENCY[world][0])


def drop_pct(r: Row, world: str) -> float:
    """The row's drop rate in %."""
    key, scale = DROP[world]
    return r.value(world, key) * scale


def fairness(r: Row, world: str) -> float:
    """The row's Jain index in [0, 1]."""
    key, scale = FAIR[world]
    return r.value(world, key) * scale


def competitors(group: list[Row], world: str, value: Callable[[Row, str], float]) -> list[Row]:
    """Non-oracle rows other than the proposed method with a finite value."""
    return [r for r in group if r.solver not in ORACLES and r.solver != PROPOSED and math.isfinite(value(r, world))]


def listing(group: list[Row], world: str, value: Callable[[Row, str], float], digits: int = 3) -> str:
    """'label 4.13, label 5.52' for the rows with a finite value."""
    return ", ".join(f"{r.label} {fmt(value(r, world), digits)}" for r in group if math.isfinite(value(r, world)))


def judged(
    exp: Experiment,
    fig: str,
    paper: str,
    world: str,
    judge: Judge,
    context: Callable[[list[Row]], str],
    select: Callable[[list[list[Row]]], list[list[Row]]] = lambda gs: gs,
) -> Claim:
    """Judge COMLLM's row at each selected point with ``judge(row, group)``; points without it get ``context``.
    NOT_MEASURED when no point has a COMLLM row with results in this world."""
    tag = f"[{WORLD_NAMES[world]}] "

    def at(group: list[Row]) -> Judged:
        mine = next((r for r in group if r.solver == PROPOSED and math.isfinite(latency(r, world))), None)
        return context(group) if mine is None else judge(mine, group)

    claim = per_point(exp.name, fig, paper, select(groups(exp)), at, lambda g: point_name(g[0]))
    if claim.verdict == NOT_MEASURED:
        claim.measured = "no stored runs of comllm (LLM rows pending); stored: " + claim.measured
    claim.measured = tag + claim.measured
    return claim


def lowest_latency(exp: Experiment, world: str) -> Claim:
    """COMLLM's mean latency is below every non-oracle method's (DRL, heuristics, SFT)."""
    unit = LATENCY[world][1]

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        rivals = competitors(group, world, latency)
        best = min(rivals, key=lambda r: latency(r, world), default=None)
        if best is None:
            return False, f"COMLLM {fmt(latency(mine, world))} {unit}, no other method stored"
        return latency(mine, world) < latency(best, world), (
            f"COMLLM {fmt(latency(mine, world))} {unit}, best other {best.label} {fmt(latency(best, world))}"
        )

    def context(group: list[Row]) -> str:
        return f"mean latency ({unit}) " + listing(group, world, latency)

    return judged(
        exp,
        FIG_TABLE,
        "Lowest average latency, outperforming DRL, heuristic and SFT baselines (summary; oracles excluded)",
        world,
        judge,
        context,
    )


def near_optimal(exp: Experiment, world: str) -> Claim:
    """COMLLM's ratio to the oracle is at least 95 %."""
    key = RATIO[world]
    oracle = "comllm-oracle, the authors' performance ratio" if world == OPEN else "greedy-oracle"

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        return mine.value(world, key) >= NEAR_OPTIMAL_PCT, f"COMLLM {fmt(mine.value(world, key), 1)} %"

    def context(group: list[Row]) -> str:
        return "ratio to the oracle (%) " + listing(group, world, lambda r, w: r.value(w, key), 1)

    return judged(
        exp,
        FIG_TABLE,
        f"Near-optimal latency (abstract; here: oracle mean / mean >= {NEAR_OPTIMAL_PCT:g} %, oracle = {oracle})",
        world,
        judge,
        context,
    )


def zero_drops(exp: Experiment, world: str) -> Claim:
    """COMLLM drops no task at any tested server count."""
    what = "cost > 12.5 slots, the authors' drop" if world == OPEN else "tasks unfinished at age D"

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        return drop_pct(mine, world) == 0.0, f"COMLLM {fmt(drop_pct(mine, world), 2)} %"

    def context(group: list[Row]) -> str:
        return "drop % " + listing(group, world, drop_pct, 1)

    return judged(
        exp,
        FIG_TABLE,
        f"Zero task-drop rate across all tested topologies (summary; drop = {what})",
        world,
        judge,
        context,
    )


def better_fairness(exp: Experiment, world: str) -> Claim:
    """COMLLM's Jain index is above every non-oracle method's."""

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        rivals = competitors(group, world, fairness)
        best = max(rivals, key=lambda r: fairness(r, world), default=None)
        if best is None:
            return False, f"COMLLM {fmt(fairness(mine, world))}, no other method stored"
        return fairness(mine, world) > fairness(best, world), (
            f"COMLLM {fmt(fairness(mine, world))}, fairest other {best.label} {fmt(fairness(best, world))}"
        )

    def context(group: list[Row]) -> str:
        return "Jain " + listing(group, world, fairness)

    return judged(
        exp,
        FIG_TABLE,
        f"Superior load-balancing fairness (abstract, summary; {FAIR_NAME[world]}; "
        "random and round-robin spread tasks uniformly by construction)",
        world,
        judge,
        context,
    )


def jain_087(exp: Experiment, world: str) -> Claim:
    """COMLLM's Jain index is 0.87 +- 0.03."""

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        j = fairness(mine, world)
        extra = f" (n = S: {fmt(mine.value(OPEN, 'jain_servers_pct') / 100)})" if world == OPEN else ""
        return abs(j - PAPER_JAIN) <= JAIN_TOL, f"COMLLM {fmt(j)}{extra}"

    def context(group: list[Row]) -> str:
        text = "Jain " + listing(group, world, fairness)
        if world == OPEN:
            text += "; with n = S: " + listing(group, world, lambda r, w: r.value(w, "jain_servers_pct") / 100)
        return text

    return judged(
        exp,
        FIG_TABLE,
        f"Jain's index ≈ {PAPER_JAIN} (page's generated summary, not the abstract; "
        f"here within ± {JAIN_TOL}; {FAIR_NAME[world]})",
        world,
        judge,
        context,
    )


def latency_307(exp: Experiment, world: str) -> Claim:
    """Average latency ≈ 3.07 ms. Closed loop: no policy gets below the simulator's least task delay, which is
    computed from the instance parameters, so the claim is decided without COMLLM's runs. Open loop: the
    figure read as slots of the one-step formula (the only unit where it is reachable)."""
    paper = (
        f"Average latency ≈ {PAPER_LATENCY_MS} ms (page's generated summary, not the abstract; ≈: within {CLOSE:.0%})"
    )
    if world == OPEN:

        def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
            v = latency(mine, OPEN)
            return close(v, PAPER_LATENCY_MS), f"COMLLM {fmt(v)} slots"

        def context(group: list[Row]) -> str:
            return (
                "3.07 read as slots of the formula (as ms it would be 0.03 slots); mean cost (slots) "
                + listing(group, OPEN, latency)
                + "; the comllm-oracle mean is the least any policy reaches on "
                "these states"
            )

        return judged(exp, FIG_TABLE, paper + "; read as slots of the one-step formula", OPEN, judge, context)
    parts = []
    for group in groups(exp):
        stored = [r for r in group if math.isfinite(latency(r, CLOSED))]
        if not stored:
            continue
        floor = min_delay_slots(group[0].params) * float(group[0].params["slot_s"]) * 1000
        best = min(stored, key=lambda r: latency(r, CLOSED))
        mine = next((r for r in group if r.solver == PROPOSED), None)
        text = (
            f"{point_name(group[0])}: every task takes at least {floor:.0f} ms in the simulator; best stored "
            f"{best.label} {1000 * best.value(CLOSED, 'mean_delay_s'):.0f} ms"
        )
        parts.append(text + (f", COMLLM {1000 * mine.value(CLOSED, 'mean_delay_s'):.0f} ms" if mine else ""))
    return Claim(
        exp.name,
        FIG_TABLE,
        paper,
        f"[{WORLD_NAMES[CLOSED]}] " + "; ".join(parts) + f" — {PAPER_LATENCY_MS} ms is unreachable by any policy",
        DISAGREES if parts else NOT_MEASURED,
    )


def zero_shot(exp: Experiment, world: str) -> Claim:
    """COMLLM trained at the smallest server count still beats random at every larger count and keeps at least
    90 % of its ratio to the oracle; DQN is not applicable there without retraining."""
    key = RATIO[world]
    by_s = {g[0].servers: g for g in groups(exp)}
    trained = min(by_s, default=0)
    home = next((r for r in by_s.get(trained, []) if r.solver == PROPOSED), None)

    def retrained(group: list[Row]) -> str:
        return "".join(
            f"; {r.label} trained at S = {trained}: not applicable without retraining (retrained: "
            f"{fmt(latency(r, world))} slots)"
            for r in group
            if r.solver in RETRAINED
        )

    def judge(mine: Row, group: list[Row]) -> tuple[bool, str]:
        rnd = next((r for r in group if r.solver == "random"), None)
        beats = rnd is not None and latency(mine, world) < latency(rnd, world)
        base = home.value(world, key) if home else math.nan
        keeps = math.isfinite(base) and mine.value(world, key) >= ZERO_SHOT_KEEP * base
        return beats and keeps, (
            f"COMLLM {fmt(latency(mine, world))} slots vs random "
            f"{fmt(latency(rnd, world)) if rnd else '–'}; ratio to the oracle "
            f"{fmt(mine.value(world, key), 1)} % (at S = {trained}: {fmt(base, 1)} %)" + retrained(group)
        )

    def context(group: list[Row]) -> str:
        return "mean latency (slots) " + listing(group, world, latency) + retrained(group)

    return judged(
        exp,
        FIG_ZEROSHOT,
        f"A model trained on {trained} servers generalizes to larger topologies "
        f"without retraining (summary: 6 -> 11; here: beats random and keeps >= {ZERO_SHOT_KEEP:.0%} of "
        "its ratio to the oracle)",
        world,
        judge,
        context,
        select=lambda gs: [g for g in gs if g[0].servers != trained],
    )


TABLE_CHECKS = (lowest_latency, near_optimal, zero_drops, latency_307, better_fairness, jain_087)
CHECKS: dict[str, tuple[Callable[[Experiment, str], Claim], ...]] = {
    FIG_TABLE: TABLE_CHECKS,
    FIG_ZEROSHOT: (zero_shot,),
}


def deciding(experiments: list[Experiment]) -> list[Experiment]:
    """One experiment per figure judges its claims (a claim is one row, whatever the number of stores): the
    first with stored runs of the paper's method ``comllm``, else the first of that figure."""
    by_figure: dict[str, list[Experiment]] = {}
    for exp in experiments:
        by_figure.setdefault(exp.figure or "", []).append(exp)
    return [
        next((e for e in exps if any(r.ok and r.solver == "comllm" for r in e.records)), exps[0])
        for exps in by_figure.values()
    ]


def check_claims(experiments: list[Experiment]) -> list[Claim]:
    """Every COMLLM claim that applies to the stored experiments, by figure (judged once), in both worlds."""
    return [
        check(exp, world)
        for exp in deciding(experiments)
        for check in CHECKS.get(exp.figure or "", ())
        for world in WORLDS
    ]
