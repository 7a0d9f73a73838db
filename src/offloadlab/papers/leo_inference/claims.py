"""'Paper claims vs measured' of seed 003 (LEOEdge). The paper states no numeric improvement claim: every
result is qualitative or read off a figure, so each claim below is checked as stated, with the tolerance
that turns "about" into a test written next to it, and decided from the stored runs of its figure."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import (
    AGREES,
    DISAGREES,
    FAILS,
    NOT_MEASURED,
    Claim,
    Judged,
    absent,
    not_measured,
    per_point,
    verdict,
)
from offloadlab.papers.leo_inference.stored import (
    LAYERS,
    details,
    infeasible,
    level_name,
    level_points,
    mean_detail,
    messages,
    n_tasks,
    runs,
)

# Scheme names of the paper, by solver.
NAMES = {
    "leoedge": "LEOEdge",
    "threshold": "Threshold",
    "workload": "Workload",
    "marl": "MARL",
    "a3c": "A3C",
    "local-only": "No edge",
    "central": "Central (ours)",
    "reference": "MILP",
}
THRESHOLD_LOAD = {"light": 0.2, "normal": 0.3, "heavy": 0.4}  # Fig. 7's blue curve, read off the figure
ABOUT_LOAD = 0.1  # "about x" for a CPU utilisation: within x +- 0.1
OTHERS_LOAD = 0.5  # "around an average CPU utilisation of 50 %"
FULL_LOAD = 0.9  # "approaches 100 %"
SLIGHT = 0.2  # "only a slight improvement": lower, by less than a fifth of MARL's utilisation
THRESHOLD_LATENCY_S, ABOUT_LATENCY_S = 0.2, 0.05  # "around 200 milliseconds": 150-250 ms
FEW_MESSAGES = 1000  # "mostly under 1000"
LINEAR_R2 = 0.95  # "linearly related to the task volume": a straight-line fit with R^2 >= 0.95
NO_NUMBERS = "the paper states no numeric improvement; read off the figure"

Values = dict[str, dict[str, float]]  # level -> paper name -> mean value


def _levels(exp: Experiment, key: str) -> tuple[Values, dict[str, int]]:
    """Mean of a details key per arrival level and scheme (every stored run, feasible or not), and the
    number of infeasible runs per scheme (a scheme that ignores the load, like Threshold, may break it)."""
    out: Values = {}
    broken: dict[str, int] = {}
    for p in level_points(exp):
        row = {}
        for lab in exp.labels:
            v = mean_detail(exp, lab, p, key)
            if math.isfinite(v):
                name = NAMES.get(exp.solver_of(lab), lab)
                row[name] = v
                broken[name] = broken.get(name, 0) + infeasible(exp, lab, p)
        out[level_name(p)] = row
    return out, broken


def _fmt(values: dict[str, float], unit: str = "") -> str:
    if unit == "s":
        return ", ".join(f"{k} {1e3 * v:.0f} ms" for k, v in values.items())
    return ", ".join(f"{k} {100 * v:.1f} %" for k, v in values.items())


def _per_level(
    exp: Experiment,
    fig: str,
    paper: str,
    table: Values,
    needed: tuple[str, ...],
    unit: str,
    judge_row: Callable[[dict[str, float], str], bool],
    note: str = "",
) -> Claim:
    """Judge every arrival level from its scheme means; NOT_MEASURED when a needed scheme has no runs."""
    missing = [s for s in needed if not any(s in row for row in table.values())]
    if missing or not table:
        return not_measured(exp.name, fig, paper, absent(missing or ["any scheme"]))

    def judge(item: tuple[str, dict[str, float]]) -> Judged:
        level, row = item
        if any(s not in row for s in needed):
            return f"missing {', '.join(s for s in needed if s not in row)}"
        return judge_row(row, level), _fmt(row, unit)

    return per_point(exp.name, fig, paper, list(table.items()), judge, lambda item: item[0], note, FAILS)


def _broken_note(broken: dict[str, int]) -> str:
    bad = {k: v for k, v in broken.items() if v}
    return (
        (
            "infeasible runs (a load constraint broken, values still shown): "
            + ", ".join(f"{k} {v}" for k, v in bad.items())
        )
        if bad
        else ""
    )


# ---- Fig. 7: edge-server workload -------------------------------------------------------------------------


def fig7_claims(exp: Experiment) -> list[Claim]:
    """Fig. 7 from the stored mean CPU utilisation of the containers, per arrival level."""
    table, broken = _levels(exp, "mean_cpu_utilisation")
    note = _broken_note(broken)
    others = ("Workload", "MARL", "A3C", "LEOEdge")

    def lowest(row: dict[str, float], _: str) -> bool:
        return min(row, key=lambda k: row[k]) == "Threshold"

    def about(row: dict[str, float], level: str) -> bool:
        return abs(row["Threshold"] - THRESHOLD_LOAD.get(level, math.nan)) <= ABOUT_LOAD

    def around_half(row: dict[str, float], level: str) -> bool:
        # MARL (and A3C, 'only a slight improvement' on it) under heavy load are the paper's stated exception
        return all(
            abs(row[k] - OTHERS_LOAD) <= ABOUT_LOAD
            for k in others
            if k in row and not (k in ("MARL", "A3C") and level == "heavy")
        )

    def slight(row: dict[str, float], _: str) -> bool:
        return 0 < row["MARL"] - row["A3C"] < SLIGHT * row["MARL"]

    heavy = {k: v for k, v in table.items() if k == "heavy"}
    return [
        _per_level(
            exp,
            "fig7",
            f"Threshold has the lowest edge-server workload at every arrival level ({NO_NUMBERS})",
            table,
            ("Threshold",),
            "",
            lowest,
            note,
        ),
        _per_level(
            exp,
            "fig7",
            "Threshold's workload is about 0.2 / 0.3 / 0.4 under light / normal / heavy "
            f"arrivals (tested: within +-{ABOUT_LOAD:g}); the next sentence says 'below 20 %'",
            table,
            ("Threshold",),
            "",
            about,
            note,
        ),
        _per_level(
            exp,
            "fig7",
            "The other schemes (workload-based, MARL, A3C, and LEOEdge 'akin to the "
            f"workload-based') keep about 50 % CPU utilisation (tested: within +-{ABOUT_LOAD:g}; MARL "
            "and A3C under heavy load excepted)",
            table,
            ("Workload", "LEOEdge"),
            "",
            around_half,
            note,
        ),
        _per_level(
            exp,
            "fig7",
            f"Under heavy arrivals MARL's load approaches 100 % (tested: >= {FULL_LOAD:.0%})",
            heavy,
            ("MARL",),
            "",
            lambda row, _: row["MARL"] >= FULL_LOAD,
            note,
        ),
        _per_level(
            exp,
            "fig7",
            "Under heavy arrivals A3C is only a slight improvement over MARL (tested: "
            f"lower load, by less than {SLIGHT:.0%} of MARL's)",
            heavy,
            ("MARL", "A3C"),
            "",
            slight,
            note,
        ),
    ]


# ---- Fig. 8: inference latency ----------------------------------------------------------------------------


def fig8_claims(exp: Experiment) -> list[Claim]:
    """Fig. 8 from the stored mean latency (arrival to result on board), per arrival level."""
    table, broken = _levels(exp, "mean_latency_s")
    note = _broken_note(broken)

    def shortest(row: dict[str, float], _: str) -> bool:
        return min(row, key=lambda k: row[k]) == "LEOEdge"

    def below_no_edge(row: dict[str, float], _: str) -> bool:
        return all(v < row["No edge"] for k, v in row.items() if k != "No edge")

    return [
        _per_level(
            exp,
            "fig8",
            f"LEOEdge has the shortest average latency under all three loads ({NO_NUMBERS})",
            table,
            ("LEOEdge",),
            "s",
            shortest,
            note,
        ),
        _per_level(
            exp,
            "fig8",
            "Every scheme's latency is below the no-edge benchmark",
            table,
            ("No edge",),
            "s",
            below_no_edge,
            note,
        ),
        _per_level(
            exp,
            "fig8",
            "Threshold stays around 200 ms (tested: "
            f"{1e3 * (THRESHOLD_LATENCY_S - ABOUT_LATENCY_S):.0f}-"
            f"{1e3 * (THRESHOLD_LATENCY_S + ABOUT_LATENCY_S):.0f} ms)",
            table,
            ("Threshold",),
            "s",
            lambda row, _: abs(row["Threshold"] - THRESHOLD_LATENCY_S) <= ABOUT_LATENCY_S,
            note,
        ),
        _per_level(
            exp,
            "fig8",
            "A3C's latency is worse than MARL's",
            table,
            ("MARL", "A3C"),
            "s",
            lambda row, _: row["A3C"] > row["MARL"],
            note,
        ),
    ]


# ---- Fig. 9: messages per layer ---------------------------------------------------------------------------


def message_series(exp: Experiment, solver: str = "leoedge") -> tuple[np.ndarray, np.ndarray]:
    """Mean task volume [P] and mean messages per layer [P, 3] of ``solver``'s runs, by increasing volume."""
    rows = []
    for lab in exp.labels_of(solver):
        for p in exp.points:
            recs = runs(exp, lab, p)
            if recs:
                rows.append(
                    (
                        float(np.mean([n_tasks(r) for r in recs])),
                        [float(np.mean([messages(r)[k] for r in recs])) for k in LAYERS],
                    )
                )
    rows.sort()
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows]).reshape(-1, len(LAYERS))


def r_squared(x: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination of the least-squares line through (x, y) (1 for a constant y)."""
    slope, intercept = np.polyfit(x, y, 1)
    resid = float(np.sum((y - (slope * x + intercept)) ** 2))
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - resid / total if total > 0 else 1.0


def fig9_claims(exp: Experiment) -> list[Claim]:
    """Fig. 9 from LEOEdge's stored message counts per layer vs the tasks of each instance."""
    tasks, msgs = message_series(exp)
    papers = (
        "Server-container messages are the highest of the three layers",
        f"Satellite-LBS messages are mostly under {FEW_MESSAGES:,} (tested: at more than half of the volumes)",
        f"Satellite-LBS messages grow linearly with the task volume (tested: line fit R^2 >= {LINEAR_R2:g})",
    )
    if not tasks.size:
        return [not_measured(exp.name, "fig9", p, absent(["LEOEdge"])) for p in papers]
    rows = "; ".join(f"{t:.0f} tasks: " + " / ".join(f"{m:,.0f}" for m in row) for t, row in zip(tasks, msgs))
    order = f" (satellite-LBS / LBS-server / server-container) — {rows}"
    highest = msgs[:, 2] > msgs[:, :2].max(axis=1)
    few = msgs[:, 0] < FEW_MESSAGES
    claims = [
        Claim(
            exp.name,
            "fig9",
            papers[0],
            f"highest at {highest.sum()} of {tasks.size} volumes{order}",
            verdict(int(highest.sum()), tasks.size),
        ),
        Claim(
            exp.name,
            "fig9",
            papers[1],
            f"under {FEW_MESSAGES:,} at {few.sum()} of {tasks.size} volumes",
            AGREES if 2 * few.sum() > tasks.size else DISAGREES,
        ),
    ]
    if tasks.size < 3:
        claims.append(not_measured(exp.name, "fig9", papers[2], "needs at least three task volumes"))
    else:
        r2 = r_squared(tasks, msgs[:, 0])
        claims.append(
            Claim(
                exp.name,
                "fig9",
                papers[2],
                f"R^2 = {r2:.3f} over {tasks.size} volumes",
                AGREES if r2 >= LINEAR_R2 else DISAGREES,
            )
        )
    return claims


# ---- Tables II-III and Fig. 6 (adaptive modelling) --------------------------------------------------------

ADAPTIVE_SOLVER = "adaptive"
ADAPTIVE_CLAIMS = (
    (
        "table2_3",
        "Tables II-III: adapted MobileNetV3 / ShuffleNetV2 latency within [15, 20] ms "
        "on every processor, accuracy close to 72 % / 69.1 %",
    ),
    (
        "fig6",
        "Fig. 6: Nesterov's accelerated gradient reaches a lower loss than plain gradient descent during training",
    ),
)


def adaptive_source(experiments: list[Experiment]) -> tuple[str, str, dict[str, Any]] | None:
    """The stored run of the solver ``adaptive`` whose details carry ``rows`` (Reproduced rows as dicts) and
    ``fig6`` (gd, nag curves): (experiment name, where, details), or None when this store has none."""
    for exp in experiments:
        for lab in exp.labels_of(ADAPTIVE_SOLVER):
            for p in exp.points:
                for d in map(details, runs(exp, lab, p)):
                    if d.get("rows") and d.get("fig6"):
                        return exp.name, f"stored run, {lab}", d
    return None


def adaptive_claims(experiments: list[Experiment]) -> list[Claim]:
    """Tables II-III and Fig. 6, judged by the adaptive-modelling helper's claims rows."""
    source = adaptive_source(experiments)
    if source is None:
        reason = f"no stored run of the solver '{ADAPTIVE_SOLVER}' (spec leo_adaptive or leo_adaptive_quick)"
        return [not_measured("-", fig, paper, reason) for fig, paper in ADAPTIVE_CLAIMS]
    from offloadlab.methods.leo_inference.adaptive.tables import Reproduced, claims  # imports torch: on demand

    name, where, d = source
    rows = [Reproduced(**r) for r in d["rows"]]
    curves = {k: np.asarray(v, float) for k, v in d["fig6"].items()}
    return [
        Claim(
            name,
            "fig6" if c["claim"].startswith("Fig. 6") else "table2_3",
            f"{c['claim']} (paper: {c['paper']})",
            f"{c['measured']} [{where}]",
            AGREES if c["holds"] else DISAGREES,
        )  # settle() names the runs: those of the experiment ``name``
        for c in claims(rows, curves)
    ]


# ---- notes: what the paper never measured -----------------------------------------------------------------


def notes(experiments: list[Experiment]) -> list[Claim]:
    """What the paper promises or says without evaluating it: the relay's delivery latency, the count of
    baselines; with what our stored runs measure about them."""
    relay = [e for e in experiments if e.figure == "relay"]
    parts = []
    for exp in relay:
        for lab in exp.labels:
            for p in exp.points:
                ds = [details(r) for r in runs(exp, lab, p)]
                if ds:
                    parts.append(
                        f"{lab}: delivery {1e3 * np.mean([d['mean_delivery_s'] for d in ds]):.0f} ms, "
                        f"{np.mean([d['relayed'] for d in ds]):.1f} tasks relayed, benefit "
                        f"{np.mean([d['total_benefit'] for d in ds]):.2f}"
                    )
    measured = (
        ("not evaluated by the paper; ours (mean over instances): " + "; ".join(parts))
        if parts
        else "not evaluated by the paper; no stored run of the relay experiment"
    )
    return [
        Claim(
            relay[0].name if relay else "-",
            "relay",
            "The seamless transmission (relay, Algorithm 4) lowers the "
            "delivery latency (promised in the abstract; never evaluated in Sec. IX)",
            measured,
            NOT_MEASURED,
        ),
        Claim(
            "-",
            "baselines",
            "'three different offloading logic' are compared, then four are listed (threshold, workload, MARL, A3C)",
            "all four run here (Figs. 7-8)",
            NOT_MEASURED,
        ),
    ]


CHECKS: dict[str, Callable[[Experiment], list[Claim]]] = {"fig7": fig7_claims, "fig8": fig8_claims, "fig9": fig9_claims}


def check_claims(experiments: list[Experiment]) -> list[Claim]:
    """Every seed-003 claim: per stored figure experiment, then Tables II-III / Fig. 6 and the notes."""
    out = [c for exp in experiments for c in CHECKS.get(exp.figure or "", lambda _: [])(exp)]
    return out + adaptive_claims(experiments) + notes(experiments)
