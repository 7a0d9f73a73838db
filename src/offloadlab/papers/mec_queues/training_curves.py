"""The ``training`` figure: how the LLM policies behind an experiment's rows were trained.

Left, SFT: validation exact-label accuracy per epoch (and the training loss on the right axis); right, the
GRPO and COMLLM stages: mean group reward per optimiser step (raw, and a moving average), with the
validation accuracy where the stage measured it. The curves are read, never typed: for each LLM row the
adapter its runs loaded (the ``adapter`` of the run's stats), then beside that adapter either the curve file
shipped with the package (``<method>_curve.json``) or the ``summary.json`` that ``offloadlab train`` wrote
into its training folder (``<out>/<method>/``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from offloadlab.experiments.analysis import Experiment  # noqa: E402
from offloadlab.experiments.plots import moving_average  # noqa: E402
from offloadlab.methods.mec_queues.llm_policies import SHIPPED_ADAPTERS  # noqa: E402

Curve = list[dict[str, Any]]
FIG_TRAINING = "training"
STAGES = ("sft", "grpo", "comllm")
SOLVER_STAGE = {"llm-sft": "sft", "llm-grpo": "grpo", "comllm": "comllm"}


def adapter_curve(adapter: Path) -> Curve | None:
    """The training curve kept beside an adapter: ``<method>_curve.json`` for a shipped ``<method>.gguf``,
    ``summary.json``'s ``curve`` for a trained ``adapter.gguf``; None when there is none."""
    shipped = adapter.with_name(f"{adapter.stem}_curve.json")
    if shipped.is_file():
        return list(json.loads(shipped.read_text()))
    summary = adapter.with_name("summary.json")
    if summary.is_file():
        curve = json.loads(summary.read_text()).get("curve")
        return list(curve) if curve else None
    return None


def folder_curves(out: Path) -> dict[str, Curve]:
    """The curves of a training output folder (``offloadlab train mec-queues --out OUT``), by stage."""
    curves = {s: adapter_curve(out / s / "adapter.gguf") for s in STAGES}
    return {s: c for s, c in curves.items() if c}


def experiment_curves(exp: Experiment) -> dict[str, tuple[Curve, str]]:
    """By stage: the curve of the adapter the experiment's LLM runs loaded, and that adapter's path."""
    found: dict[str, tuple[Curve, str]] = {}
    for rec in exp.records:
        stage = SOLVER_STAGE.get(rec.solver)
        raw = rec.data.get("stats_json") if rec.ok else None
        stats = json.loads(raw) if isinstance(raw, str) else (raw or {})
        adapter = stats.get("adapter")
        if stage is None or stage in found or not adapter:
            continue
        curve = adapter_curve(Path(adapter))
        if curve:
            found[stage] = (curve, str(adapter))
    return found


def draw_curves(curves: dict[str, Curve], title: str) -> plt.Figure | None:
    """SFT accuracy per epoch and GRPO/COMLLM reward per step, from the curves of each stage present."""
    if not curves:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4))
    sft = curves.get("sft")
    if sft:
        epochs = [p["epoch"] for p in sft]
        left.plot(epochs, [100 * p["val_accuracy"] for p in sft], marker="o", label="validation accuracy")
        best = int(np.argmax([p["val_accuracy"] for p in sft]))
        left.annotate(f"best {100 * sft[best]['val_accuracy']:.1f} %", (epochs[best], 100 * sft[best]["val_accuracy"]),
                      xytext=(0, 8), textcoords="offset points", ha="center", fontsize=8)  # fmt: skip
        loss = left.twinx()
        loss.plot(epochs, [p["train_loss"] for p in sft], color="tab:gray", ls="--", label="training loss (right)")
        loss.set_ylabel("training loss (answer token)")
        handles = left.get_legend_handles_labels()[0] + loss.get_legend_handles_labels()[0]
        left.legend(handles=handles, loc="center right", fontsize=8)
    left.set_xlabel("SFT epoch")
    left.set_ylabel("validation exact-label accuracy (%)")
    left.set_title("SFT", fontsize=9)
    left.grid(alpha=0.3)
    acc: Any = None  # the validation-accuracy axis, made when a stage measured it
    for stage in ("grpo", "comllm"):
        curve = curves.get(stage)
        if not curve:
            continue
        steps = np.array([p["step"] for p in curve])
        reward = np.array([p["reward"] for p in curve], dtype=float)
        (raw,) = right.plot(steps, reward, alpha=0.25)
        right.plot(steps, moving_average(reward, max(1, len(reward) // 15)), color=raw.get_color(),
                   label=f"{stage.upper()}: mean group reward")  # fmt: skip
        checks = [p for p in curve if "val_accuracy" in p]
        if checks:
            acc = acc or right.twinx()
            acc.plot([p["step"] for p in checks], [100 * p["val_accuracy"] for p in checks], ls=":", marker=".",
                     color=raw.get_color(), label=f"{stage.upper()}: validation accuracy")  # fmt: skip
    if acc is not None:
        acc.set_ylabel("validation exact-label accuracy (%)")
        acc.legend(loc="lower right", fontsize=8)
    right.set_xlabel("GRPO optimiser step (from the SFT adapter)")
    right.set_ylabel("mean group reward")
    right.set_title("GRPO and COMLLM (reward 0.8 task + 0.2 format; COMLLM adds LACS to the task cost)", fontsize=9)
    right.grid(alpha=0.3)
    if right.lines:
        right.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_training(exp: Experiment) -> plt.Figure | None:
    """The training curves of the adapters that the experiment's LLM rows loaded."""
    found = experiment_curves(exp)
    sources = sorted({"the shipped adapters" if Path(a).parent == SHIPPED_ADAPTERS else str(Path(a).parent.parent)
                      for _, a in found.values()})  # fmt: skip
    title = f"{exp.title}\nTraining curves of the adapters the runs loaded: {'; '.join(sources)}"
    return draw_curves({s: c for s, (c, _) in found.items()}, title)
