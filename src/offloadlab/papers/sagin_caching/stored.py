"""Reading seed 001's stored runs: the details of each run (cost terms, surplus, training curves) and the
grid of a one-parameter sweep. Shared by the paper's drawers and claims."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.convergence import episode_returns

SATELLITE = "cloud via satellite"
GROUND_CLOUD = "cloud (ground core)"
CACHING = ("LAoT", "FIFO", "LFU")
AUCTIONS = ("DQMSB", "optimal MSB", "myopic MSB", "SPA")


def details(exp: Experiment, label: str, point: dict[str, Any]) -> list[dict[str, Any]]:
    """Stored details of every successful run of ``label`` at ``point``."""
    out: list[dict[str, Any]] = []
    for rec in exp.at(label, point):
        raw = rec.row.get("details_json") if rec.ok and rec.row is not None else None
        if raw is not None:
            out.append(json.loads(raw) if isinstance(raw, str) else raw)
    return out


def training_curves(exp: Experiment, label: str, point: dict[str, Any]) -> list[list[float]]:
    """The learning curve (one value per training episode) of every stored run of ``label`` at ``point``."""
    out = []
    for rec in exp.at(label, point):
        if rec.ok and rec.row is not None:
            raw = {c: rec.row.get(c) for c in ("stats_json", "details_json")}
            got = {c: json.loads(v) if isinstance(v, str) and v else {} for c, v in raw.items()}
            if curve := episode_returns(got["stats_json"], got["details_json"]):
                out.append(curve)
    return out


def mean_of(exp: Experiment, label: str, point: dict[str, Any], key: str) -> float:
    """Mean of a details key over seeds (nan without runs)."""
    vals = [d[key] for d in details(exp, label, point) if d.get(key) is not None]
    return float(np.mean(vals)) if vals else math.nan


def x_name(exp: Experiment) -> str:
    """The swept parameter of a one-parameter grid ('' for an experiment without a grid)."""
    return next(iter(exp.points[0]), "") if exp.points else ""


def sorted_points(exp: Experiment) -> list[dict[str, Any]]:
    """Grid points in increasing order of the swept parameter."""
    x = x_name(exp)
    return sorted(exp.points, key=lambda p: p.get(x, 0))


def preset_of(exp: Experiment) -> str:
    """The preset an experiment ran with."""
    return str(exp.spec.get("preset") or "default")


def reading_of(exp: Experiment) -> str:
    """The reading of the satellite bandwidth (eq. 2's U_0) an experiment ran with: per-area or shared."""
    return str((exp.spec.get("params") or {}).get("satellite_bandwidth") or "per-area")


def figure_of(exp: Experiment) -> str:
    """The paper's figure id of an experiment, without the suffix of a preset or reading variant."""
    return (exp.figure or "").removesuffix("-paper").removesuffix("-shared")


def series(exp: Experiment, label: str, key: str) -> np.ndarray:
    """A details key of one label along the sorted grid, [points]."""
    return np.array([mean_of(exp, label, p, key) for p in sorted_points(exp)], dtype=float)
