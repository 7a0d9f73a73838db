"""The learners' training records (``rl.record``) read from stored runs and drawn beside their curves."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from offloadlab.rl.record import training_of


def stored_record(rec: Any) -> dict[str, Any]:
    """The training record of a stored run ({} if it trained nothing or stored none)."""
    raw = rec.row.get("stats_json") if rec.row is not None else None
    return training_of(json.loads(raw) if isinstance(raw, str) else (raw or {}))


def record_note(record: dict[str, Any]) -> str:
    """One line for a legend: environment steps, updates and wall seconds of the training."""
    wall = record.get("wall_s", math.nan)
    return f"{record.get('env_steps', 0)} env steps, {record.get('updates', 0)} updates, {wall:.0f} s"


def draw_losses(ax: Any, x: np.ndarray, losses: list[float | None], color: str, label: str) -> Any:
    """The mean training loss per episode on a log-scale twin axis of ``ax`` (dashed, ``color``); returns
    that axis, or None when no episode has a loss."""
    y = np.asarray([math.nan if v is None else v for v in losses], dtype=float)
    if not np.isfinite(y).any():
        return None
    twin = ax.twinx()
    twin.plot(x[: len(y)], y, color=color, linestyle="--", linewidth=0.8, alpha=0.7, label=label)
    if (y[np.isfinite(y)] > 0).all():
        twin.set_yscale("log")
    twin.set_ylabel("Training loss per episode (dashed)", fontsize=8)
    return twin
