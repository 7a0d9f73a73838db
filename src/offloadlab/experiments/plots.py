"""The papers' figures from stored results (matplotlib): convergence curves, lines with error bars over
one parameter, and grouped bars over grid points; the reference method is always a dashed line."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.core.errors import InputError  # noqa: E402
from offloadlab.experiments.analysis import Experiment  # noqa: E402

# One colour per method family across figures; variants of one solver differ by line style and marker.
COLORS = {
    "llm": "tab:red",
    "ga": "tab:blue",
    "ddpg": "tab:green",
    "random": "tab:orange",
    "local": "tab:gray",
    "exhaustive": "tab:purple",
}
FALLBACK = ["tab:brown", "tab:pink", "tab:olive", "tab:cyan", "tab:purple"]
STYLES = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1)), "v")]
REF_STYLE: dict[str, Any] = {"color": "black", "linestyle": "--", "linewidth": 1.4}
FORMATS = ("png", "pdf")
MAX_TICKS = 12  # more grid points than this on a lines plot: ticks chosen by matplotlib


def method_styles(exp: Experiment) -> dict[str, dict[str, Any]]:
    """Colour, line style and marker of every non-reference label."""
    out: dict[str, dict[str, Any]] = {}
    per_solver: dict[str, Any] = {}
    spare = iter(FALLBACK * 4)
    for label in exp.labels:
        if label == exp.reference_label:
            continue
        solver = exp.solver_of(label)
        k = per_solver.setdefault(solver, [0])
        ls, marker = STYLES[k[0] % len(STYLES)]
        k[0] += 1
        color = COLORS.get(solver) or per_solver.setdefault(f"_color_{solver}", next(spare))
        out[label] = {"color": color, "linestyle": ls, "marker": marker}
    return out


def objective_label(exp: Experiment) -> str:
    """The y-axis label."""
    ylabel = (exp.spec.get("plot") or {}).get("ylabel")
    if ylabel:
        return str(ylabel)
    return exp.objective.axis_label if exp.objective else "Objective"


def shown_label(exp: Experiment, label: str, points: list[dict[str, Any]]) -> str:
    """The legend label, noting the points without a feasible result (infeasible, failed or not run yet),
    where nothing is drawn."""
    none = [exp.point_label(p) for p in points if not exp.cell(label, p).feasible]
    return f"{label} (no feasible result at {'; '.join(none)})" if none else label


def _bar(std: float) -> float:
    """Error-bar half length: none where the std is undefined (a single run)."""
    return std if math.isfinite(std) else 0.0


def legend(ax: plt.Axes, exp: Experiment) -> None:
    """Legend with the methods in spec order and the reference last."""
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda j: labels[j] == exp.reference_label)
    ax.legend([handles[j] for j in order], [labels[j] for j in order], fontsize=8)


def paper_figure(exp: Experiment) -> plt.Figure | None:
    """The figure that the experiment's paper draws itself (kinds the generic plots cannot draw), if any."""
    from offloadlab.core.registry import papers

    paper = papers().get(exp.scenario)
    return paper.draw(exp) if paper is not None else None


def drawable(exp: Experiment) -> bool:
    """Whether the experiment has stored runs and a figure: a plot section or a drawer of its paper."""
    from offloadlab.core.registry import papers

    paper = papers().get(exp.scenario)
    has_drawer = paper is not None and (exp.figure or "") in paper.drawers
    return any(r.ok for r in exp.records) and (bool(exp.spec.get("plot")) or has_drawer)


def draw(exp: Experiment) -> plt.Figure:
    """The figure of an experiment: its paper's own drawer, else the generic plot kind of its spec."""
    if not any(r.ok for r in exp.records):
        raise InputError("results", f"experiment '{exp.name}' has no stored runs yet")
    special = paper_figure(exp)
    if special is not None:
        return special
    plot = exp.spec.get("plot")
    if not plot:
        raise InputError("figure", f"experiment '{exp.name}' has no plot section")
    kind = plot["kind"]
    fig = {"convergence": draw_convergence, "lines": draw_lines, "bars": draw_bars}[kind](exp, plot)
    if plot.get("title") or exp.title:
        fig.suptitle(plot.get("title") or exp.title, fontsize=10)
    fig.tight_layout()
    return fig


def save(exp: Experiment, out_dir: str | Path) -> list[Path]:
    """Draw and save as PNG and PDF under ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = draw(exp)
    paths = []
    for fmt in FORMATS:
        path = out / f"{exp.name}.{fmt}"
        fig.savefig(path, dpi=150)
        paths.append(path)
    plt.close(fig)
    return paths


def png_bytes(exp: Experiment) -> bytes:
    """The figure as PNG bytes (for embedding)."""
    import io

    fig = draw(exp)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _reference_mean(exp: Experiment, point: dict[str, Any]) -> float:
    ref = exp.reference_label
    return exp.cell(ref, point).mean if ref else math.nan


def step_curves(exp: Experiment, label: str, axis: str, grid: np.ndarray) -> np.ndarray:
    """Best-so-far of each stored run of ``label`` sampled on ``grid`` of ``axis`` (nan before its first point)."""
    curves = []
    for rec in exp.records:
        if rec.label != label or not rec.ok or not rec.data.get("history"):
            continue
        hist = rec.data["history"]
        xs = np.array([h[axis] for h in hist], dtype=float)
        ys = np.array([h["best_objective"] for h in hist], dtype=float)
        ys[~np.isfinite(ys)] = np.nan
        idx = np.searchsorted(xs, grid, side="right") - 1
        curves.append(np.where(idx >= 0, ys[np.clip(idx, 0, None)], np.nan))
    return np.array(curves)


def draw_convergence(exp: Experiment, plot: dict[str, Any]) -> plt.Figure:
    """Best objective so far vs objective evaluations, vs wall-clock seconds and (where a method asked an LLM)
    vs LLM calls (log axes), mean over runs."""
    styles = method_styles(exp)
    asked = {r.label for r in exp.records if r.ok and any(h.get("llm_calls") for h in r.data.get("history") or ())}
    panels = [
        ("evaluations", plot.get("xlabel") or "Objective evaluations", set(styles)),
        ("seconds", "Wall-clock time (s)", set(styles)),
    ]
    if asked:  # an LLM method's cost is its calls: the same curves against them, LLM methods only
        panels.append(("llm_calls", "LLM calls", asked))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    ref = _reference_mean(exp, exp.points[0])
    for ax, (axis, xlabel, shown) in zip(axes, panels, strict=True):
        top = max((h[axis] for r in exp.records if r.ok and r.label in shown for h in r.data["history"]), default=1.0)
        low = 1e-3 if axis == "seconds" else 1.0
        grid = np.geomspace(low, max(top, low * 10), 300)
        for label, st in styles.items():
            if label not in shown:
                continue
            curves = step_curves(exp, label, axis, grid)
            if not len(curves):
                continue
            with warnings.catch_warnings():  # all-nan columns (before any feasible point) stay nan
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(curves, axis=0)
                lo, hi = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
            ax.plot(grid, mean, color=st["color"], linestyle=st["linestyle"], label=label, linewidth=1.6)
            if len(curves) > 1:
                ax.fill_between(grid, lo, hi, color=st["color"], alpha=0.12, linewidth=0)
        if math.isfinite(ref):
            ax.axhline(ref, label=exp.reference_label, **REF_STYLE)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(objective_label(exp))
        ax.grid(True, which="both", alpha=0.3)
    legend(axes[0], exp)
    return fig


def draw_lines(exp: Experiment, plot: dict[str, Any]) -> plt.Figure:
    """Mean +- std per method over the ``plot.x`` parameter; the reference dashed."""
    styles = method_styles(exp)
    x_name = plot["x"]
    points = sorted(exp.points, key=lambda p: p[x_name])
    xs = np.array([p[x_name] for p in points], dtype=float)
    step = float(np.min(np.diff(xs))) if len(xs) > 1 else 1.0
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    n = len(styles)
    for j, (label, st) in enumerate(styles.items()):
        cells = [exp.cell(label, p) for p in points]
        dodge = (j - (n - 1) / 2) * step * 0.04  # side-by-side error bars
        ax.errorbar(
            xs + dodge,
            [c.mean for c in cells],
            yerr=[_bar(c.std) for c in cells],
            label=shown_label(exp, label, points),
            capsize=3,
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            markersize=5,
        )
    ref = [_reference_mean(exp, p) for p in points]
    if exp.reference_label and np.isfinite(ref).any():
        ax.plot(xs, ref, marker="x", label=exp.reference_label, **REF_STYLE)
    if len(xs) <= MAX_TICKS:  # a long sweep (e.g. one point per minute) keeps matplotlib's own ticks
        ax.set_xticks(xs)
    ax.set_xlabel(plot.get("xlabel") or x_name)
    ax.set_ylabel(objective_label(exp))
    ax.grid(True, alpha=0.3)
    legend(ax, exp)
    return fig


def draw_bars(exp: Experiment, plot: dict[str, Any]) -> plt.Figure:
    """Grouped bars (mean +- std) per grid point; the reference a dashed segment over each group."""
    styles = method_styles(exp)
    points = exp.points
    n = max(len(styles), 1)
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(points) + 2), 4.4))
    centers = np.arange(len(points))
    for j, (label, st) in enumerate(styles.items()):
        cells = [exp.cell(label, p) for p in points]
        ax.bar(
            centers - 0.4 + width * (j + 0.5),
            [c.mean for c in cells],
            width,
            yerr=[_bar(c.std) for c in cells],
            label=shown_label(exp, label, points),
            color=st["color"],
            capsize=2,
            alpha=0.85,
            edgecolor="black",
            linewidth=0.4,
        )
    for g, p in enumerate(points):
        r = _reference_mean(exp, p)
        if math.isfinite(r):
            ax.hlines(r, g - 0.45, g + 0.45, label=(exp.reference_label or "") if g == 0 else "", **REF_STYLE)
    ax.set_xticks(centers, [exp.point_label(p) for p in points])
    ax.set_xlabel(plot.get("xlabel") or exp.point_keys_label())
    ax.set_ylabel(objective_label(exp))
    ax.grid(True, axis="y", alpha=0.3)
    legend(ax, exp)
    return fig


def moving_average(y: np.ndarray, width: int) -> np.ndarray:
    """Trailing moving average of a learning curve (shorter at the start)."""
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - width, 0)
    return (c[idx] - c[lo]) / (idx - lo)
