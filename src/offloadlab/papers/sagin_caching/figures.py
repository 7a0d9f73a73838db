"""Figures 3-6 of seed 001 from a results store, and the paper-claims-vs-measured table.

`offloadlab plot` draws a run's objective (here the caching cost); these figures need the cost terms,
AoT and auction surplus stored in each run's details, so they are drawn here:

    python -m offloadlab.papers.sagin_caching.figures results/sagin -o docs/figures
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.experiments.analysis import Experiment, load_experiments, open_store  # noqa: E402
from offloadlab.scenarios.sagin_caching.model import COST_TERMS  # noqa: E402

TERM_COLORS = {"switching": "tab:purple", "transmission": "tab:blue", "computation": "tab:green",
               "accuracy": "tab:orange", "cloud": "tab:gray"}
SATELLITE = "cloud via satellite"
CACHING = ("LAoT", "FIFO", "LFU")
AUCTIONS = ("DQMSB", "optimal MSB", "myopic MSB", "SPA")


def details(exp: Experiment, label: str, point: dict[str, Any]) -> list[dict[str, Any]]:
    """Stored details of every successful run of ``label`` at ``point``."""
    out = []
    for rec in exp.at(label, point):
        if rec.ok:
            raw = rec.row.get("details_json")
            out.append(json.loads(raw) if isinstance(raw, str) else raw)
    return out


def mean_of(exp: Experiment, label: str, point: dict[str, Any], key: str) -> float:
    """Mean of a details key over seeds (nan without runs)."""
    vals = [d[key] for d in details(exp, label, point) if d.get(key) is not None]
    return float(np.mean(vals)) if vals else math.nan


def x_name(exp: Experiment) -> str:
    """The swept parameter of a one-parameter grid."""
    return next(iter(exp.points[0]))


def sorted_points(exp: Experiment) -> list[dict[str, Any]]:
    """Grid points in increasing order of the swept parameter."""
    return sorted(exp.points, key=lambda p: p[x_name(exp)])


def draw_cost_terms(exp: Experiment) -> plt.Figure:
    """Fig. 3: stacked cost terms (eqs. 21-26) per strategy at each grid value."""
    points, labels = sorted_points(exp), [lab for lab in exp.labels]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(points) + 2), 4.6))
    width = 0.8 / len(labels)
    highest = 0.0
    for j, label in enumerate(labels):
        xs = np.arange(len(points)) - 0.4 + width * (j + 0.5)
        bottom = np.zeros(len(points))
        for term in COST_TERMS:
            h = np.array([mean_of(exp, label, p, f"{term}_cost") for p in points])
            ax.bar(xs, h, width, bottom=bottom, color=TERM_COLORS[term], edgecolor="black", linewidth=0.3,
                   label=term if j == 0 else None)
            bottom += np.nan_to_num(h)
        for x, top in zip(xs, bottom):
            ax.text(x, top, chr(ord("A") + j), ha="center", va="bottom", fontsize=7)
        highest = max(highest, float(bottom.max()))
    ax.set_ylim(0, highest * 1.2)  # room for the legend above the bars
    ax.set_xticks(np.arange(len(points)), [str(p[x_name(exp)]) for p in points])
    spec_plot = exp.spec.get("plot") or {}
    ax.set_xlabel(spec_plot.get("xlabel") or x_name(exp))
    ax.set_ylabel("Average total cost per slot")
    key = ", ".join(f"{chr(ord('A') + j)} = {lab}" for j, lab in enumerate(labels))
    ax.set_title(f"{exp.title}\n{key}", fontsize=8)
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def draw_vanishing(exp: Experiment) -> plt.Figure:
    """Fig. 4: accuracy cost and mean CoT performance gain (eq. 20) vs the vanishing factor."""
    points = sorted_points(exp)
    xs = [p[x_name(exp)] for p in points]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, ylabel in ((axes[0], "accuracy_cost", "Accuracy cost per slot"),
                            (axes[1], "mean_performance", "Performance gain A (eq. 20)")):
        for label, marker in zip(exp.labels, "osD^v"):
            ax.plot(xs, [mean_of(exp, label, p, key) for p in points], marker=marker, label=label)
        ax.set_xlabel("vanishing factor")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(exp.title.replace("Total cost", "Model performance"), fontsize=10)
    fig.tight_layout()
    return fig


def draw_convergence(exp: Experiment) -> plt.Figure:
    """Fig. 5: DQMSB's total surplus per training episode (mean over seeds, smoothed) and the other auctions."""
    point = exp.points[0]
    runs = details(exp, "DQMSB", point)
    curves = np.array([d["training_curve"] for d in runs if d.get("training_curve")])
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    if len(curves):
        mean = curves.mean(axis=0)
        k = max(1, len(mean) // 30)
        smooth = np.convolve(mean, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(len(mean)) + 1, mean, color="tab:red", alpha=0.25, linewidth=0.8)
        ax.plot(np.arange(len(smooth)) + k, smooth, color="tab:red", label="DQMSB (training)")
    refs = [d["training_reference"] for d in runs if d.get("training_reference")]
    styles = {"optimal": ("black", "--"), "msb-optimal": ("tab:blue", "-."), "msb-myopic": ("tab:green", ":"),
              "spa": ("tab:orange", (0, (5, 1))), "dqmsb": ("tab:red", "--")}
    names = {"optimal": "efficient allocation", "msb-optimal": "optimal MSB", "msb-myopic": "myopic MSB",
             "spa": "SPA", "dqmsb": "DQMSB (trained, greedy)"}
    for key, (color, ls) in styles.items():
        if refs:
            ax.axhline(np.mean([r[key] for r in refs]), color=color, linestyle=ls, label=names[key])
    ax.set_xlabel("Training episode (100 auction rounds each)")
    ax.set_ylabel("Total surplus per episode")
    ax.set_title(f"{exp.title} (mean of {len(curves)} seeds)", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_surplus(exp: Experiment) -> plt.Figure:
    """Fig. 6: total surplus split into ground BSs and satellite per auction at each grid value."""
    points = sorted_points(exp)
    labels = [lab for lab in AUCTIONS if lab in exp.labels]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.5 * len(points) + 2), 5.2))
    width = 0.8 / len(labels)
    colors = dict(zip(AUCTIONS, ("tab:red", "tab:blue", "tab:green", "tab:orange")))
    for j, label in enumerate(labels):
        xs = np.arange(len(points)) - 0.4 + width * (j + 0.5)
        ground = np.array([mean_of(exp, label, p, "ground_surplus") for p in points])
        sat = np.array([mean_of(exp, label, p, "satellite_surplus") for p in points])
        ax.bar(xs, ground, width, color=colors[label], edgecolor="black", linewidth=0.3, label=f"{label}: ground")
        ax.bar(xs, sat, width, bottom=ground, color=colors[label], alpha=0.4, hatch="//", edgecolor="black",
               linewidth=0.3, label=f"{label}: satellite")
    opt = [mean_of(exp, labels[0], p, "optimal_surplus") for p in points]
    ax.plot(np.arange(len(points)), opt, "k_", markersize=30, label="efficient allocation")
    ax.set_xticks(np.arange(len(points)), [str(p[x_name(exp)]) for p in points])
    ax.set_xlabel(exp.title.split(" vs ")[-1] if " vs " in exp.title else x_name(exp))
    ax.set_ylabel("Total surplus per auction round")
    ax.set_title(exp.title, fontsize=10)
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def draw(exp: Experiment) -> plt.Figure | None:
    """The figure of a sagin experiment by its name (None for other experiments)."""
    if exp.name.startswith("sagin_fig3"):
        return draw_cost_terms(exp)
    if exp.name.startswith("sagin_fig4"):
        return draw_vanishing(exp)
    if exp.name.startswith("sagin_fig5"):
        return draw_convergence(exp)
    if exp.name.startswith("sagin_fig6"):
        return draw_surplus(exp)
    return None


def _ratio_stats(values: list[float]) -> dict[str, float]:
    """Mean, min and max over the grid points that have runs (nan ones are still running or failed)."""
    arr = np.array(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return {"mean": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {"mean": float(arr.mean()), "min": float(arr.min()), "max": float(arr.max()), "n": int(arr.size)}


def caching_claims(fig3: list[Experiment]) -> dict[str, Any]:
    """Cost cut of the satellite-enabled architecture and how often LAoT is the cheapest caching policy."""
    cuts: dict[str, list[float]] = {}
    laot_best = points = 0
    for e in fig3:
        for p in e.points:
            sat = mean_of(e, SATELLITE, p, "avg_total_cost")
            for other in (*CACHING, "cloud (ground core)"):
                cuts.setdefault(other, []).append(1.0 - sat / mean_of(e, other, p, "avg_total_cost"))
            relay = mean_of(e, "LAoT + satellite relay", p, "avg_total_cost")
            cuts.setdefault("LAoT (relay: ground -> satellite)", []).append(
                1.0 - relay / mean_of(e, "LAoT", p, "avg_total_cost"))
            costs = {lab: mean_of(e, lab, p, "avg_total_cost") for lab in CACHING}
            laot_best += costs["LAoT"] <= min(costs.values()) + 1e-12
            points += 1
    return {"satellite_cost_cut_vs_caching": _ratio_stats([c for lab in CACHING for c in cuts[lab]]),
            "satellite_cost_cut": {lab: _ratio_stats(v) for lab, v in cuts.items()},
            "laot_lowest_caching_cost": {"points": laot_best, "of": points}}


def auction_claims(auctions: list[Experiment]) -> dict[str, Any]:
    """DQMSB's surplus and allocation efficiency relative to the other auctions, per grid point."""
    gains: dict[str, list[float]] = {}
    for e in auctions:
        for p in e.points:
            dq = mean_of(e, "DQMSB", p, "total_surplus")
            dq_eff = mean_of(e, "DQMSB", p, "allocation_efficiency")
            for other in AUCTIONS[1:]:
                gains.setdefault(f"surplus vs {other}", []).append(dq / mean_of(e, other, p, "total_surplus") - 1)
                gains.setdefault(f"efficiency vs {other}", []).append(
                    dq_eff / mean_of(e, other, p, "allocation_efficiency") - 1)
            gains.setdefault("DQMSB efficiency", []).append(dq_eff)
    return {k: _ratio_stats(v) for k, v in gains.items()}


def claims(exps: list[Experiment]) -> dict[str, Any]:
    """Measured counterparts of the paper's headline claims over every stored grid point, per preset."""
    out: dict[str, Any] = {}
    for preset in sorted({e.spec.get("preset", "default") for e in exps}):
        mine = [e for e in exps if e.spec.get("preset", "default") == preset]
        fig3 = [e for e in mine if e.name.startswith("sagin_fig3")]
        auctions = [e for e in mine if e.name.startswith(("sagin_fig5", "sagin_fig6"))]
        out[preset] = {**(caching_claims(fig3) if fig3 else {}),
                       **({"dqmsb": auction_claims(auctions)} if auctions else {})}
    return out


def main(argv: list[str] | None = None) -> None:
    """Draw every stored sagin experiment as PNG and write the claims as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="results store (from `offloadlab run ... --out DIR`)")
    ap.add_argument("-o", "--output", default="docs/figures", help="folder for the PNG files")
    args = ap.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    exps = [e for e in load_experiments(open_store(args.results)) if e.name.startswith("sagin_")]
    for exp in exps:
        if not any(r.ok for r in exp.records):
            continue
        fig = draw(exp)
        if fig is not None:
            path = out / f"{exp.name}.png"
            fig.savefig(path, dpi=130)
            plt.close(fig)
            print(path)
    path = out / "sagin_claims.json"
    path.write_text(json.dumps(claims(exps), indent=2) + "\n")
    print(path)


if __name__ == "__main__":
    main()
