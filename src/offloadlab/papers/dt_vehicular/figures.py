"""Figs. 3-6 of seed 004 from a results store: each cost term vs N, per method and per twin bias.

``offloadlab plot`` draws one objective per experiment; these figures need five cost terms from the
runs' details and the bias as a second grid axis, so they are drawn here:

    python -m offloadlab.papers.dt_vehicular.figures results/dt_vehicular -o docs/figures

It writes dt_fig3_energy.png, dt_fig4_latency.png, dt_fig5_qos.png, dt_fig6_edge.png and prints the
measured tables (Markdown) used in docs/dt-vehicular.md.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.experiments.analysis import Experiment, find_experiment, open_store  # noqa: E402

EXPERIMENT = "dt_vehicular_figs3_6"
TERMS = {"energy_j": "System energy per slot (J)", "latency_s": "Mean task latency (s)", "qos": "System QoS",
         "edge_energy_j": "Edge energy per slot (J)", "resource_ratio": "Resource ratio (sum of alpha)"}
LEARNERS = ("LLM", "MARL", "SARL")


def table(exp: Experiment) -> dict[tuple[str, float, int], dict[str, float]]:
    """(label, delta_f, N) -> mean of every cost term over the stored runs."""
    acc: dict[tuple[str, float, int], list[dict[str, Any]]] = defaultdict(list)
    for rec in exp.records:
        if rec.ok:
            acc[(rec.label, float(rec.point["delta_f"]), int(rec.point["N"]))].append(json.loads(rec.row["details_json"]))
    return {k: {t: float(np.mean([d[t] for d in v])) for t in TERMS} for k, v in acc.items()}


def _series(data, label: str, df: float, term: str) -> tuple[list[int], list[float]]:
    pts = sorted((n, v[term]) for (lab, d, n), v in data.items() if lab == label and d == df)
    return [p[0] for p in pts], [p[1] for p in pts]


def _labels(data) -> list[str]:
    seen = sorted({k[0] for k in data})
    return [lab for lab in (*LEARNERS, "Lyapunov", "Random", "Local") if lab in seen]


def _biases(data) -> list[float]:
    return sorted({k[1] for k in data})


def term_figure(data, term: str, title: str, df: float = 0.0, bias_method: str = "LLM") -> plt.Figure:
    """(a) every method vs N at one bias, (b) LLM and MARL only (MARL and SARL without LLM runs),
    (c) one method under every bias."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    pair = ["LLM", "MARL"] if "LLM" in _labels(data) else ["MARL", "SARL"]
    for ax, labels, what in ((axes[0], _labels(data), "all methods"), (axes[1], pair, " vs ".join(pair))):
        for lab in labels:
            x, y = _series(data, lab, df, term)
            if x:
                ax.plot(x, y, marker="o", label=lab)
        ax.set_title(f"({'a' if ax is axes[0] else 'b'}) {what}, delta_f = {df:g}")
    for b in _biases(data):
        x, y = _series(data, bias_method, b, term)
        if x:
            axes[2].plot(x, y, marker="o", label=f"delta_f = {b:g}")
    axes[2].set_title(f"(c) {bias_method} under every bias")
    for ax in axes:
        ax.set_xticks(sorted({k[2] for k in data}))
        ax.set_xlabel("Number of vehicles N")
        ax.set_ylabel(TERMS[term])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def edge_figure(data) -> plt.Figure:
    """Fig. 6: edge energy and resource ratio of the learners (and Lyapunov) at delta_f = 0.5 and -0.5."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for col, df in enumerate((0.5, -0.5)):
        for row, term in enumerate(("edge_energy_j", "resource_ratio")):
            ax = axes[row, col]
            for lab in (*LEARNERS, "Lyapunov"):
                x, y = _series(data, lab, df, term)
                if x:
                    ax.plot(x, y, marker="o", label=lab)
            ax.set_title(f"({'abcd'[2 * row + col]}) delta_f = {df:g}")
            ax.set_xticks(sorted({k[2] for k in data}))
            ax.set_xlabel("Number of vehicles N")
            ax.set_ylabel(TERMS[term])
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle("Fig. 6: edge energy and resource ratio")
    fig.tight_layout()
    return fig


def markdown(data) -> str:
    """Measured tables: every term per method and N at delta_f = 0; latency and energy per method and bias."""
    lines = []
    ns = sorted({k[2] for k in data})
    for term in TERMS:
        lines += [f"\n{TERMS[term]}, delta_f = 0:\n", "| method | " + " | ".join(f"N={n}" for n in ns) + " |",
                  "|---" * (len(ns) + 1) + "|"]
        for lab in _labels(data):
            vals = [data.get((lab, 0.0, n), {}).get(term) for n in ns]
            lines.append(f"| {lab} | " + " | ".join("-" if v is None else f"{v:.4g}" for v in vals) + " |")
    biases = _biases(data)
    for term in ("latency_s", "energy_j"):
        lines += [f"\n{TERMS[term]} averaged over N, per bias:\n",
                  "| method | " + " | ".join(f"df={b:g}" for b in biases) + " |", "|---" * (len(biases) + 1) + "|"]
        for lab in _labels(data):
            vals = [np.mean([v[term] for (la, d, _), v in data.items() if la == lab and d == b] or [np.nan])
                    for b in biases]
            lines.append(f"| {lab} | " + " | ".join(f"{v:.4g}" for v in vals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Draw the figures of a stored sweep and print its tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="results store of src/offloadlab/papers/dt_vehicular/specs/dt_vehicular_figs3_6.yaml")
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/figures"), help="folder for the PNG files")
    ap.add_argument("--experiment", default=EXPERIMENT)
    ap.add_argument("--bias-method", default="LLM", help="method drawn under every bias in panels (c)")
    ap.add_argument("--prefix", default="dt_", help="file name prefix of the PNG files")
    args = ap.parse_args(argv)
    data = table(find_experiment(open_store(args.results), name=args.experiment))
    args.output.mkdir(parents=True, exist_ok=True)
    m = args.bias_method
    figs = {f"{args.prefix}fig3_energy.png": term_figure(data, "energy_j", "Fig. 3: system energy", bias_method=m),
            f"{args.prefix}fig4_latency.png": term_figure(data, "latency_s", "Fig. 4: task processing latency",
                                                         bias_method=m),
            f"{args.prefix}fig5_qos.png": term_figure(data, "qos", "Fig. 5: QoS", bias_method=m),
            f"{args.prefix}fig6_edge.png": edge_figure(data)}
    for name, fig in figs.items():
        fig.savefig(args.output / name, dpi=110)
        plt.close(fig)
        print(args.output / name)
    print(markdown(data))


if __name__ == "__main__":
    main()
