"""Drawers of seed 003's figures that the generic plot kinds cannot draw: workload over time (Fig. 7) and
delivery latency per path (relay), rebuilt from each run's stored decision and regenerated instance;
latency per arrival level (Fig. 8), messages per layer (Fig. 9) and the dual-decomposition gap, from the
stored details and stats. `offloadlab plot/report/reproduce` call them through the registered paper."""

from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from offloadlab.experiments.analysis import Experiment  # noqa: E402
from offloadlab.experiments.paper import Drawer  # noqa: E402
from offloadlab.papers.leo_inference.claims import NAMES, adaptive_source, message_series  # noqa: E402
from offloadlab.papers.leo_inference.stored import (  # noqa: E402
    LAYERS,
    busy_cores,
    details,
    level_name,
    level_points,
    rebuilt,
    runs,
    stats,
)
from offloadlab.scenarios.leo_inference import links  # noqa: E402

COLORS = {
    "leoedge": "tab:red",
    "threshold": "tab:blue",
    "workload": "tab:green",
    "marl": "tab:purple",
    "a3c": "tab:orange",
    "local-only": "tab:gray",
    "central": "tab:brown",
    "reference": "black",
}
BINS = 60  # time bins of the workload curves


def _color(exp: Experiment, label: str) -> str:
    return COLORS.get(exp.solver_of(label), "tab:cyan")


def draw_load(exp: Experiment) -> Figure | None:
    """Fig. 7: fraction of busy container cores over time per scheme (first stored instance), one panel per
    arrival level, with the load threshold p dashed."""
    points = level_points(exp)
    if not points:
        return None
    fig, axes = plt.subplots(1, len(points), figsize=(4.6 * len(points), 3.8), sharey=True, squeeze=False)
    p_line = math.nan
    for ax, point in zip(axes[0], points):
        for label in exp.labels:
            recs = runs(exp, label, point)
            if not recs:
                continue
            model, target = rebuilt(recs[0])
            edges = np.linspace(0.0, model.inst.horizon_s, BINS + 1)
            util = busy_cores(model, target, edges)
            ax.plot(
                0.5 * (edges[1:] + edges[:-1]),
                100 * util,
                color=_color(exp, label),
                label=f"{label} (mean {100 * details(recs[0])['mean_cpu_utilisation']:.1f} %)",
            )
            p_line = model.p.load_threshold
        if math.isfinite(p_line):
            # p bounds L (eq. 6), the share of slots held by tasks queued, running or still in transit
            ax.axhline(
                100 * p_line,
                color="black",
                ls="--",
                lw=1,
                label=f"p = {p_line:g} (bounds L, which also counts tasks in transit)",
            )
        ax.set_title(f"{level_name(point)} arrivals", fontsize=9)
        ax.set_xlabel("Time (s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("Edge CPU utilisation (%)")
    fig.suptitle(exp.title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_latency(exp: Experiment) -> Figure | None:
    """Fig. 8: mean inference latency per scheme and arrival level (mean over instances, std bars), log
    scale; infeasible runs (a load constraint broken) are drawn hatched."""
    points = level_points(exp)
    labels = exp.labels
    if not points or not labels:
        return None
    fig, ax = plt.subplots(figsize=(8, 4.4))
    width = 0.8 / len(labels)
    for j, label in enumerate(labels):
        for i, point in enumerate(points):
            ds = [details(r) for r in runs(exp, label, point)]
            if not ds:
                continue
            lat = np.array([d["mean_latency_s"] for d in ds])
            broken = not all(d.get("feasible", True) for d in ds)
            ax.bar(
                i - 0.4 + width * (j + 0.5),
                1e3 * lat.mean(),
                width,
                color=_color(exp, label),
                yerr=1e3 * lat.std(ddof=1) if lat.size > 1 else None,
                hatch="//" if broken else None,
                edgecolor="black",
                linewidth=0.3,
                label=label if i == 0 else None,
            )
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(points)), [level_name(p) for p in points])
    ax.set_xlabel("Task arrivals")
    ax.set_ylabel("Mean inference latency (ms)")
    ax.set_title(f"{exp.title}\nhatched: infeasible (a load constraint broken)", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, ncol=3)
    fig.tight_layout()
    return fig


def draw_messages(exp: Experiment) -> Figure | None:
    """Fig. 9: messages per layer vs the task volume: LEOEdge solid, the flat central scheduler dashed."""
    fig, ax = plt.subplots(figsize=(7, 4.4))
    drawn = False
    for solver, style in (("leoedge", "-"), ("central", "--")):
        tasks, msgs = message_series(exp, solver)
        for k, (layer, marker) in enumerate(zip(LAYERS, "osD")):
            if tasks.size and np.any(msgs[:, k] > 0):
                ax.plot(tasks, msgs[:, k], style, marker=marker, color=f"C{k}", label=f"{NAMES[solver]}: {layer}")
                drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_yscale("log")
    ax.set_xlabel("Tasks in the run (task volume)")
    ax.set_ylabel("Messages")
    ax.set_title(exp.title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def gap_rows(exp: Experiment) -> list[dict[str, float | str]]:
    """Per grid point (mean over instances): LP and MILP benefit, LEOEdge's relaxed and rounded benefit, and the
    greedy (``central``) benefit where stored (NaN otherwise)."""
    out: list[dict[str, float | str]] = []
    ref = exp.labels_of("reference")
    dual = exp.labels_of("leoedge")
    greedy = exp.labels_of("central")
    for p in exp.points:
        r = [stats(x) for lab in ref[:1] for x in runs(exp, lab, p)]
        d = [(stats(x), details(x)) for lab in dual[:1] for x in runs(exp, lab, p)]
        g = [details(x)["total_benefit"] for lab in greedy[:1] for x in runs(exp, lab, p)]
        if r and d:
            out.append(
                {
                    "point": exp.point_label(p),
                    "lp": float(np.mean([s["lp_objective"] for s in r])),
                    "milp": float(np.mean([s["milp_objective"] for s in r])),
                    "relaxed": float(np.mean([s["relaxed_objective"] for s, _ in d])),
                    "rounded": float(np.mean([det["total_benefit"] for _, det in d])),
                    "greedy": float(np.mean(g)) if g else math.nan,
                }
            )
    return out


def draw_gap(exp: Experiment) -> Figure | None:
    """The dual decomposition's relaxed and rounded benefit against the LP and the MILP, per instance."""
    rows = gap_rows(exp)
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(max(6.0, 2.6 * len(rows)), 4.4))
    keys = (
        ("lp", "LP relaxation"),
        ("relaxed", "LEOEdge relaxed (dual)"),
        ("milp", "MILP"),
        ("rounded", "LEOEdge rounded"),
        ("greedy", "Greedy (central)"),
    )
    x = np.arange(len(rows))
    width = 0.8 / len(keys)
    for j, (key, name) in enumerate(keys):
        vals = [float(r[key]) for r in rows]
        ax.bar(x - 0.4 + width * (j + 0.5), vals, width, color=f"C{j}", label=name)
    for i, r in enumerate(rows):
        lp = float(r["lp"])
        gap = (lp - float(r["relaxed"])) / lp if lp > 0 else 0.0
        ax.text(i, lp, f"gap to LP {100 * gap:.1f} %", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [textwrap.fill(str(r["point"]), 30) for r in rows], fontsize=7)
    ax.set_ylabel("Total offloading benefit (eq. 7)")
    ax.set_title(exp.title, fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_relay(exp: Experiment) -> Figure | None:
    """Raw-data delivery latency of offloaded tasks by path kind (Algorithm 4), per scheme, all instances;
    the count of tasks on each path is written on its bar."""
    kinds = (links.DIRECT, links.SAME_ORBIT, links.OTHER_ORBIT)
    fig, ax = plt.subplots(figsize=(8, 4.4))
    width = 0.8 / max(1, len(exp.labels))
    drawn = False
    for j, label in enumerate(exp.labels):
        delivery: dict[int, list[float]] = {k: [] for k in kinds}
        for p in exp.points:
            for rec in runs(exp, label, p):
                model, target = rebuilt(rec)
                off = target >= 0
                sim = model.simulate(target)
                for k in kinds:
                    delivery[k] += list(sim["delivery"][off & (model.paths.kind == k)])
        xs = np.arange(len(kinds)) - 0.4 + width * (j + 0.5)
        means = [1e3 * float(np.mean(delivery[k])) if delivery[k] else 0.0 for k in kinds]
        ax.bar(xs, means, width, color=f"C{j}", label=label)
        for x, m, k in zip(xs, means, kinds):
            ax.text(x, m, str(len(delivery[k])), ha="center", va="bottom", fontsize=7)
        drawn = drawn or any(delivery[k] for k in kinds)
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xticks(np.arange(len(kinds)), [links.PATH_NAMES[k] for k in kinds])
    ax.set_ylabel("Mean raw-data delivery latency (ms)")
    ax.set_title(f"{exp.title}\nnumbers: offloaded tasks on that path", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_adaptive(exp: Experiment) -> Figure | None:
    """Fig. 6 from the stored adaptive-modelling run: loss per iteration of gradient descent and NAG."""
    source = adaptive_source([exp])
    if source is None:
        return None
    curves = source[2]["fig6"]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(curves["gd"], label="Gradient descent")
    ax.plot(curves["nag"], label="Nesterov accelerated gradient")
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Training loss (cross-entropy)")
    ax.set_title(f"{exp.title}\nFig. 6: supernet loss on digits", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


DRAWERS: dict[str, Drawer] = {
    "adaptive": draw_adaptive,
    "fig7": draw_load,
    "fig8": draw_latency,
    "fig9": draw_messages,
    "gap": draw_gap,
    "relay": draw_relay,
    "fig7_stressed": draw_load,
    "fig8_stressed": draw_latency,
}
