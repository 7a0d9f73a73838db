"""Drawers of seed 001's figures that the generic plot kinds cannot draw: they read the cost terms, AoT,
auction surplus and training curves stored in each run's details. `offloadlab plot/report/reproduce`
call them through the paper registered in plugin.py (keyed by the spec's ``figure`` id)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.convergence import judge_curve
from offloadlab.experiments.paper import Drawer
from offloadlab.experiments.training import draw_losses, record_note, stored_record
from offloadlab.papers.sagin_caching.stored import AUCTIONS, details, series, sorted_points, x_name
from offloadlab.scenarios.sagin_caching.model import COST_TERMS

TERM_COLORS = {
    "switching": "tab:purple",
    "transmission": "tab:blue",
    "computation": "tab:green",
    "accuracy": "tab:orange",
    "cloud": "tab:gray",
}
AUCTION_COLORS = dict(zip(AUCTIONS, ("tab:red", "tab:blue", "tab:green", "tab:orange")))


def _xticks(ax: plt.Axes, exp: Experiment, xlabel: str | None = None) -> None:
    points = sorted_points(exp)
    ax.set_xticks(np.arange(len(points)), [str(p[x_name(exp)]) for p in points])
    ax.set_xlabel(xlabel or (exp.spec.get("plot") or {}).get("xlabel") or x_name(exp))


def draw_cost_terms(exp: Experiment) -> Figure:
    """Fig. 3: stacked cost terms (eqs. 21-26) per strategy at each grid value."""
    points, labels = sorted_points(exp), exp.labels
    fig, ax = plt.subplots(figsize=(max(7.0, 1.6 * len(points) + 2), 4.6))
    width = 0.8 / len(labels)
    highest = 0.0
    for j, label in enumerate(labels):
        xs = np.arange(len(points)) - 0.4 + width * (j + 0.5)
        bottom = np.zeros(len(points))
        for term in COST_TERMS:
            h = series(exp, label, f"{term}_cost")
            ax.bar(
                xs,
                h,
                width,
                bottom=bottom,
                color=TERM_COLORS[term],
                edgecolor="black",
                linewidth=0.3,
                label=term if j == 0 else None,
            )
            bottom += np.nan_to_num(h)
        for x, top in zip(xs, bottom):
            ax.text(x, top, chr(ord("A") + j), ha="center", va="bottom", fontsize=7)
        highest = max(highest, float(bottom.max()))
    ax.set_ylim(0, highest * 1.2 or 1.0)  # room for the legend above the bars
    _xticks(ax, exp)
    ax.set_ylabel("Average total cost per slot")
    key = ", ".join(f"{chr(ord('A') + j)} = {lab}" for j, lab in enumerate(labels))
    ax.set_title(f"{exp.title}\n{key}", fontsize=8)
    ax.legend(fontsize=8, ncol=5, loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def draw_vanishing(exp: Experiment) -> Figure:
    """Fig. 4: accuracy cost and mean CoT performance gain (eq. 20) vs the vanishing factor."""
    xs = [p[x_name(exp)] for p in sorted_points(exp)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, ylabel in (
        (axes[0], "accuracy_cost", "Accuracy cost per slot"),
        (axes[1], "mean_performance", "Performance gain A (eq. 20)"),
    ):
        for label, marker in zip(exp.labels, "osD^v"):
            ax.plot(xs, series(exp, label, key), marker=marker, label=label)
        ax.set_xlabel("vanishing factor")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(exp.title.replace("Total cost", "Model performance"), fontsize=10)
    fig.tight_layout()
    return fig


REFERENCE_STYLES = {
    "optimal": ("black", "--", "efficient allocation"),
    "msb-optimal": ("tab:blue", "-.", "optimal MSB"),
    "msb-myopic": ("tab:green", ":", "myopic MSB"),
    "spa": ("tab:orange", (0, (5, 1)), "SPA"),
    "dqmsb": ("tab:red", "--", "DQMSB (trained, greedy)"),
}


def draw_convergence(exp: Experiment) -> Figure:
    """Fig. 5: DQMSB's total surplus per training episode (mean over seeds, smoothed) and the other auctions."""
    runs = details(exp, "DQMSB", exp.points[0])
    records = [r for r in map(stored_record, exp.at("DQMSB", exp.points[0])) if r.get("episode_returns")]
    curves = [r["episode_returns"] for r in records]
    fig, ax = plt.subplots(figsize=(6.8, 4.4))
    if curves:
        n = min(len(c) for c in curves)
        mean = np.mean([c[:n] for c in curves], axis=0)
        k = max(1, n // 30)
        smooth = np.convolve(mean, np.ones(k) / k, mode="valid")
        ax.plot(np.arange(n) + 1, mean, color="tab:red", alpha=0.25, linewidth=0.8)
        verdict = "converged" if judge_curve(mean).converged else "NOT converged"
        ax.plot(
            np.arange(len(smooth)) + k,
            smooth,
            color="tab:red",
            label=f"DQMSB (training: {record_note(records[0])}; {verdict})",
        )
        per_seed = np.array([[np.nan if v is None else v for v in r["losses"][:n]] for r in records], dtype=float)
        seen = np.isfinite(per_seed).sum(axis=0)
        losses = np.where(seen > 0, np.nansum(per_seed, axis=0) / np.maximum(seen, 1), np.nan)
        draw_losses(ax, np.arange(n) + 1.0, list(losses), "tab:red", "DQMSB TD loss")
    refs = [d["training_reference"] for d in runs if d.get("training_reference")]
    for key, (color, ls, name) in REFERENCE_STYLES.items():
        if refs:
            ax.axhline(float(np.mean([r[key] for r in refs])), color=color, linestyle=ls, label=name)
    rounds = exp.spec.get("params", {}).get("T", 100)
    ax.set_xlabel(f"Training episode ({rounds} auction rounds each)")
    ax.set_ylabel("Total surplus per episode")
    ax.set_title(f"{exp.title} (mean of {len(curves)} seed{'s' if len(curves) > 1 else ''})", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw_surplus(exp: Experiment) -> Figure:
    """Fig. 6: total surplus split into ground BSs and satellite per auction at each grid value."""
    points = sorted_points(exp)
    labels = [lab for lab in AUCTIONS if lab in exp.labels]
    fig, ax = plt.subplots(figsize=(max(7.0, 1.5 * len(points) + 2), 5.8))
    width = 0.8 / len(labels)
    for j, label in enumerate(labels):
        xs = np.arange(len(points)) - 0.4 + width * (j + 0.5)
        ground, sat = series(exp, label, "ground_surplus"), series(exp, label, "satellite_surplus")
        color = AUCTION_COLORS[label]
        ax.bar(xs, ground, width, color=color, edgecolor="black", linewidth=0.3, label=f"{label}: ground")
        ax.bar(
            xs,
            sat,
            width,
            bottom=ground,
            color=color,
            alpha=0.4,
            hatch="//",
            edgecolor="black",
            linewidth=0.3,
            label=f"{label}: satellite",
        )
    ax.plot(
        np.arange(len(points)),
        series(exp, labels[0], "optimal_surplus"),
        "k_",
        markersize=30,
        label="efficient allocation",
    )
    _xticks(ax, exp, exp.title.split(" vs ")[-1] if " vs " in exp.title else None)
    ax.set_ylabel("Total surplus per auction round")
    ax.set_title(exp.title, fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), fontsize=7, ncol=3, loc="lower center")
    fig.tight_layout(rect=(0.0, 0.12, 1.0, 1.0))  # the legend sits below the axes, inside the figure
    return fig


def draw_cloud_examples(exp: Experiment) -> Figure:
    """Our sweep of the market calibration: allocation efficiency of each auction, and DQMSB's surplus gain over
    optimal MSB, vs the CoT examples held by the satellite's cloud model (``cloud_examples``)."""
    xs = [p[x_name(exp)] for p in sorted_points(exp)]
    labels = [lab for lab in AUCTIONS if lab in exp.labels]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for label in labels:
        axes[0].plot(
            xs, 100 * series(exp, label, "allocation_efficiency"), marker="o", label=label, color=AUCTION_COLORS[label]
        )
    axes[0].set_ylabel("Allocation efficiency (% of efficient surplus)")
    if {"DQMSB", "optimal MSB"} <= set(labels):
        gain = series(exp, "DQMSB", "total_surplus") / series(exp, "optimal MSB", "total_surplus") - 1
        axes[1].plot(xs, 100 * gain, marker="s", color="tab:red", label="DQMSB vs optimal MSB")
        axes[1].axhline(20, color="black", linestyle="--", label="paper: about +20 %")
    axes[1].axhline(0, color="gray", linewidth=0.8)
    axes[1].set_ylabel("Total surplus gain (%)")
    for ax in axes:
        ax.set_xlabel("CoT examples of the cloud model (cloud_examples)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(exp.title, fontsize=10)
    fig.tight_layout()
    return fig


DRAWERS: dict[str, Drawer] = {
    **{
        f"{fig}{variant}": draw_cost_terms
        for fig in ("fig3a", "fig3b", "fig3c", "fig3d")
        for variant in ("", "-shared")
    },
    "fig3c-paper": draw_cost_terms,
    "fig4": draw_vanishing,
    "fig5": draw_convergence,
    **{fig: draw_surplus for fig in ("fig6a", "fig6b", "fig6c", "fig6d")},
    "cloud-examples": draw_cloud_examples,
}
