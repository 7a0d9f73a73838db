"""mec-queues' figures that the generic plot kinds cannot draw, as drawers of ``offloadlab plot/report/reproduce``.

* ``two-worlds``: the both-worlds method table of every server count as a figure, and each method placed by
  its closed-loop delay (simulator) against its open-loop cost (authors' formula): where the worlds disagree.
* ``zeroshot``: bars per method at each server count (trained at the smallest), both worlds, latency and drops;
  policies trained for one count are marked retrained.
* ``arrival``: latency and drops against the arrival probability in both worlds (our extension).
* ``training``: the training curves of the LLM adapters the experiment's runs loaded (training_curves.py).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.experiments.analysis import Experiment  # noqa: E402
from offloadlab.experiments.paper import Drawer  # noqa: E402
from offloadlab.papers.mec_queues.claims import FIG_ARRIVAL, FIG_TABLE, FIG_ZEROSHOT, drop_pct, latency  # noqa: E402
from offloadlab.papers.mec_queues.data import (  # noqa: E402
    CLOSED,
    COLUMNS,
    LLM_SOLVERS,
    NOT_APPLICABLE,
    OPEN,
    RETRAINED,
    WORLD_NAMES,
    Row,
    method_name,
    point_name,
    rows,
    table_cells,
)
from offloadlab.papers.mec_queues.training_curves import FIG_TRAINING, draw_training  # noqa: E402

Metric = Callable[[Row, str], float]
PANELS: tuple[tuple[str, Metric, str], ...] = (
    (OPEN, latency, "mean cost (slots)"),
    (CLOSED, latency, "mean delay (slots)"),
    (OPEN, drop_pct, "drop % (cost > 12.5)"),
    (CLOSED, drop_pct, "drop % (age D)"),
)


def _colors(labels: list[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    return {lab: cmap(j % cmap.N) for j, lab in enumerate(labels)}


def draw_two_worlds(exp: Experiment) -> plt.Figure | None:
    """The both-worlds table per server count, and closed-loop delay vs open-loop cost per method."""
    table = rows(exp)
    if not table:
        return None
    by_point: dict[str, list[Row]] = {}
    for r in table:
        by_point.setdefault(point_name(r), []).append(r)
    heights = [0.6 + 0.28 * len(g) for g in by_point.values()] + [4.2]
    fig = plt.figure(figsize=(15, sum(heights) + 0.6))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    for j, (name, group) in enumerate(by_point.items()):
        ax = fig.add_subplot(grid[j])
        ax.axis("off")
        cells = [[method_name(r), *table_cells(r)] for r in group]
        widths = [0.14] + [0.86 / len(COLUMNS)] * len(COLUMNS)
        tab = ax.table(
            cellText=cells,
            colLabels=["method", *(c.replace(": ", ":\n") for c in COLUMNS)],
            loc="center",
            cellLoc="right",
            colWidths=widths,
        )
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
        tab.scale(1.0, 1.25)
        ax.set_title(
            f"{name}: closed loop = simulator, open loop = authors' one-step formula on a fixed test set", fontsize=9
        )
    ax = fig.add_subplot(grid[-1])
    colors = _colors(list(dict.fromkeys(r.label for r in table)))
    servers = sorted({r.servers for r in table})
    markers = dict(zip(servers, "osD^v"))
    for r in table:
        x, y = latency(r, CLOSED), latency(r, OPEN)
        if math.isfinite(x) and math.isfinite(y):
            ax.scatter(
                x,
                y,
                color=colors[r.label],
                marker=markers.get(r.servers, "o"),
                s=45,
                label=f"{r.label}, S = {r.servers}",
            )
            ax.annotate(r.label, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(f"{WORLD_NAMES[CLOSED]}: mean delay (slots)")
    ax.set_ylabel(f"{WORLD_NAMES[OPEN]}:\nmean cost (slots)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=3)
    fig.suptitle(exp.title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_zeroshot(exp: Experiment) -> plt.Figure | None:
    """Grouped bars: one group per method, one bar per server count, in both worlds (latency, drops)."""
    table = rows(exp)
    if not table:
        return None
    labels = list(dict.fromkeys(r.label for r in table))
    servers = sorted({r.servers for r in table})
    trained = servers[0]
    at = {(r.label, r.servers): r for r in table}
    width = 0.8 / len(servers)
    fig, axes = plt.subplots(2, 2, figsize=(max(10.0, 1.1 * len(labels) + 3), 7.5), squeeze=False)
    for ax, (world, metric, ylabel) in zip(axes.flat, PANELS):
        for k, s in enumerate(servers):
            xs = np.arange(len(labels)) - 0.4 + width * (k + 0.5)
            vals = [metric(at[(lab, s)], world) if (lab, s) in at else math.nan for lab in labels]
            bars = ax.bar(xs, vals, width, label=f"S = {s}", edgecolor="black", linewidth=0.4)
            for bar, lab in zip(bars, labels):
                row = at.get((lab, s))
                if row is not None and s != trained and row.solver in RETRAINED:
                    bar.set_hatch("//")  # retrained at this count: not the zero-shot policy
                elif row is not None and s != trained and row.solver in LLM_SOLVERS:
                    bar.set_hatch("..")  # the LLM trained at the smallest count, applied unchanged
        ax.set_xticks(np.arange(len(labels)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_title(WORLD_NAMES[world], fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    note = (
        f"Trained at S = {trained}. Hatched //: retrained at that S (a policy trained at S = {trained} is "
        f"{NOT_APPLICABLE}); hatched ..: LLM rows applied zero-shot."
    )
    fig.suptitle(exp.title + "\n" + "\n".join(textwrap.wrap(note, 150)), fontsize=9)
    fig.tight_layout()
    return fig


def draw_arrival(exp: Experiment) -> plt.Figure | None:
    """Latency and drops against the arrival probability, one line per method, in both worlds."""
    table = [r for r in rows(exp) if "arrival_prob" in r.point]
    if not table:
        return None
    labels = list(dict.fromkeys(r.label for r in table))
    colors = _colors(labels)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), squeeze=False)
    for ax, (world, metric, ylabel) in zip(axes.flat, PANELS):
        for lab in labels:
            mine = sorted((r for r in table if r.label == lab), key=lambda r: r.point["arrival_prob"])
            ax.plot(
                [r.point["arrival_prob"] for r in mine],
                [metric(r, world) for r in mine],
                marker="o",
                color=colors[lab],
                label=lab,
            )
        ax.set_xlabel("arrival probability per device and slot")
        ax.set_ylabel(ylabel)
        ax.set_title(WORLD_NAMES[world], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{exp.title} (extension: not a figure of the paper)", fontsize=10)
    fig.tight_layout()
    return fig


DRAWERS: dict[str, Drawer] = {
    FIG_TABLE: draw_two_worlds,
    FIG_ZEROSHOT: draw_zeroshot,
    FIG_ARRIVAL: draw_arrival,
    FIG_TRAINING: draw_training,
}
