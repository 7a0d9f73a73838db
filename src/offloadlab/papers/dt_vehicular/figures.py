"""Seed 004's figures that the generic plot kinds cannot draw, as drawers of ``offloadlab plot/report/reproduce``.

* ``figs3-6``: Figs. 3-6 in one figure, each cost term vs N per method and per twin bias (five terms from
  the runs' details, the bias as a second grid axis); ``figs3-6-nominal`` the same under the nominal
  capacity reading, with Lyapunov drawn under every bias.
* ``queues``: the server's backlogs over time under drift-plus-penalty for each trade-off factor, and the
  time-average penalty against the time-average backlog (eqs. 5-6, 23-24).
* ``learning``: learning curves of the trained learners (return per training episode), with each one's
  training record (environment steps, updates, wall seconds) and loss beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.experiments.analysis import Experiment  # noqa: E402
from offloadlab.experiments.convergence import judge_curve  # noqa: E402
from offloadlab.experiments.plots import moving_average  # noqa: E402
from offloadlab.experiments.training import draw_losses, record_note, stored_record  # noqa: E402
from offloadlab.papers.dt_vehicular.data import (  # noqa: E402
    TERMS,
    Key,
    biases,
    details,
    methods,
    name,
    series,
    sizes,
    term_table,
)

FIG_TERMS = (
    ("energy_j", "Fig. 3: system energy"),
    ("latency_s", "Fig. 4: task latency"),
    ("qos", "Fig. 5: QoS"),
    ("edge_energy_j", "Fig. 6: edge energy"),
    ("resource_ratio", "Fig. 6: resource ratio"),
)


def _axes_style(ax: Any, ns: list[int], ylabel: str) -> None:
    ax.set_xticks(ns)
    ax.set_xlabel("Number of vehicles N")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _line(ax: Any, data: dict[Key, dict[str, float]], solver: str, df: float, term: str, label: str) -> None:
    x, y = series(data, solver, df, term)
    if x:
        ax.plot(x, y, marker="o", label=label)


def draw_terms(exp: Experiment, bias_method: str = "llm-icl") -> plt.Figure | None:
    """Rows: Figs. 3-6's terms; columns: (a) every method at the middle bias, (b) the paper's pair LLM vs MARL
    (MARL vs SARL without LLM runs), (c) one method under every bias (the next learner if absent)."""
    data = term_table(exp)
    if not data:
        return None
    present, dfs, ns = methods(data), biases(data), sizes(data)
    mid = min(dfs, key=abs)
    pair = [s for s in ("llm-icl", "marl", "sarl") if s in present][:2]
    shown = (
        bias_method if bias_method in present else next((s for s in ("marl", "lyapunov") if s in present), present[0])
    )
    fig, axes = plt.subplots(len(FIG_TERMS), 3, figsize=(13, 3.1 * len(FIG_TERMS)), squeeze=False)
    for row, (term, title) in enumerate(FIG_TERMS):
        for s in present:
            _line(axes[row, 0], data, s, mid, term, name(s))
        for s in pair:
            _line(axes[row, 1], data, s, mid, term, name(s))
        for df in dfs:
            _line(axes[row, 2], data, shown, df, term, f"delta_f = {df:g}")
        axes[row, 0].set_title(f"{title} (a) all methods, delta_f = {mid:g}", fontsize=9)
        axes[row, 1].set_title(f"(b) {' vs '.join(map(name, pair))}, delta_f = {mid:g}", fontsize=9)
        axes[row, 2].set_title(f"(c) {name(shown)} under every bias", fontsize=9)
        for ax in axes[row]:
            _axes_style(ax, ns, TERMS[term])
    fig.suptitle(exp.title, fontsize=10)
    fig.tight_layout()
    return fig


def queue_runs(exp: Experiment) -> dict[tuple[str, float], list[dict[str, Any]]]:
    """(solver, beta) -> the details of its stored runs."""
    out: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for rec in exp.records:
        if rec.ok and rec.row is not None:
            beta = float(rec.point.get("beta", json.loads(rec.row["instance_params_json"])["beta"]))
            out.setdefault((rec.solver, beta), []).append(details(rec))
    return out


def penalty(d: dict[str, Any], beta: float) -> float:
    """Time-average penalty -U + E of P2 (24b): the mean P2 less beta times the mean drift."""
    return float(d["p2"]) - beta * float(d["drift"])


def draw_queues(exp: Experiment) -> plt.Figure | None:
    """(a) total backlog over time per beta (mean over runs); (b) time-average penalty vs backlog per beta."""
    runs = queue_runs(exp)
    if not runs:
        return None
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    for (solver, beta), ds in sorted(runs.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        q = np.mean([np.asarray(d["series"]["queue_bytes"], dtype=float) for d in ds], axis=0)
        label = f"{name(solver)}, beta = {beta:g} (V = 1/beta)"
        ax.plot(np.arange(len(q)), q / 1e3, label=label)
        bx.scatter(
            [np.mean([d["queue_bytes"] for d in ds]) / 1e3], [np.mean([penalty(d, beta) for d in ds])], label=label
        )
    ax.set_xlabel("Slot t")
    ax.set_ylabel("Total backlog sum_k q_k(t) (kB)")
    ax.set_title("(a) queue backlogs over time (eq. 5)", fontsize=9)
    bx.set_xlabel("Time-average backlog (kB)")
    bx.set_ylabel("Time-average penalty -U + E")
    bx.set_title("(b) drift-plus-penalty trade-off: penalty O(1/V), backlog O(V)", fontsize=9)
    for a in (ax, bx):
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.suptitle(exp.title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_learning(exp: Experiment) -> plt.Figure | None:
    """Episode return (sum of -P2 over its slots) per training episode vs training slots, one panel per N,
    one curve per learner labelled with the convergence rule's verdict on it, its mean critic loss per
    episode beside it (dashed, right axis)."""
    curves: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for rec in exp.records:
        record = stored_record(rec)
        if record.get("episode_returns"):
            n = int(rec.point.get("N", exp.spec.get("params", {}).get("N", 0)))
            curves.setdefault(n, []).append((rec.solver, record))
    if not curves:
        return None
    fig, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.2), squeeze=False)
    for ax, (n, items) in zip(axes[0], sorted(curves.items())):
        twin = None
        for solver, record in items:
            returns = np.asarray(record["episode_returns"], dtype=float)
            steps = int(record["env_steps"])
            x = np.linspace(steps / len(returns), steps, len(returns))
            (line,) = ax.plot(x, returns, alpha=0.25)
            verdict = "converged" if judge_curve(returns).converged else "NOT converged"
            ax.plot(
                x,
                moving_average(returns, max(1, len(returns) // 10)),
                color=line.get_color(),
                label=f"{name(solver)}: {record_note(record)}, {verdict}",
            )
            twin = draw_losses(ax, x, record.get("losses") or [], line.get_color(), f"{name(solver)} loss") or twin
        ax.set_title(f"N = {n}", fontsize=9)
        ax.set_xlabel("Training slots")
        ax.set_ylabel("Episode return (sum of -P2 over its slots)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(exp.title + "\n(convergence: experiments.convergence, the tail against its noise)", fontsize=10)
    fig.tight_layout()
    return fig


DRAWERS: dict[str, Callable[[Experiment], plt.Figure | None]] = {
    "figs3-6": draw_terms,
    "figs3-6-nominal": lambda exp: draw_terms(exp, bias_method="lyapunov"),
    "queues": draw_queues,
    "learning": draw_learning,
}
