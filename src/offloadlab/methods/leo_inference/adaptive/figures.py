"""Fig. 6 (gradient descent vs NAG loss) and Tables II-III as a figure."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.methods.leo_inference.adaptive.tables import FAMILIES, Reproduced, load_paper_tables  # noqa: E402


def fig6(curves: dict[str, np.ndarray], path: Path) -> Path:
    """Loss per iteration of plain gradient descent and Nesterov's accelerated gradient."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    it = np.arange(len(curves["gd"]))
    ax.plot(it, curves["gd"], label="Gradient descent")
    ax.plot(it, curves["nag"], label="Nesterov accelerated gradient")
    ax.set_xlabel("Iteration")
    ax.set_ylabel("Training loss (cross-entropy)")
    ax.set_title("Fig. 6: supernet loss on digits, step 0.01")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)


def tables_figure(rows: Sequence[Reproduced], path: Path) -> Path:
    """Per family: latency without / with adaptive modeling (paper, ours) and accuracy (paper ImageNet,
    ours digits proxy) for the 8 processors."""
    paper = load_paper_tables()
    lo, hi = paper.interval_ms
    fams = [f for f in FAMILIES if any(r.family == f for r in rows)]
    fig, axes = plt.subplots(len(fams), 2, figsize=(13, 4.2 * len(fams)), squeeze=False)
    for (ax_lat, ax_acc), fam in zip(axes, fams):
        fr = [r for r in rows if r.family == fam]
        x, w = np.arange(len(fr)), 0.27
        ax_lat.axhspan(lo, hi, color="green", alpha=0.12, label=f"interval [{lo:g}, {hi:g}] ms")
        ax_lat.bar(x - w, [r.paper_wo_ms for r in fr], w, label="without (paper = our fitted base)")
        ax_lat.bar(x, [r.paper_w_ms for r in fr], w, label="with, paper")
        ax_lat.bar(x + w, [r.adapted_ms for r in fr], w, label="with, ours")
        ax_lat.set_ylabel("Latency (ms)")
        ax_lat.set_title(f"{paper.family_names[fam]}: latency")
        ax_acc.plot(x, [r.paper_acc_pct for r in fr], "o-", label="paper, ImageNet (adapted)")
        ax_acc.axhline(paper.original_acc_pct[fam], ls="--", color="C0", label="paper, ImageNet (original)")
        accs = [r.accuracies() for r in fr]
        ax_acc.plot(x, [a for _, a, _ in accs], "s-", color="C2", label=f"ours, digits, {accs[0][2]} (adapted)")
        ax_acc.axhline(accs[0][0], ls="--", color="C2", label=f"ours, digits, {accs[0][2]} (base)")
        ax_acc.set_ylabel("Accuracy (%)")
        ax_acc.set_title(f"{paper.family_names[fam]}: accuracy (digits is not comparable to ImageNet)")
        for ax in (ax_lat, ax_acc):
            ax.set_xticks(x, [r.processor for r in fr], rotation=30, ha="right", fontsize=8)
            ax.grid(alpha=0.3, axis="y")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)
