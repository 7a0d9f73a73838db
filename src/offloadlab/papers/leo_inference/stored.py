"""Reading seed 003's stored runs: details, stats and decisions of each run, the run's instance rebuilt from
its seed and parameters, and the per-task quantities (latency, CPU occupation, path) the drawers need that
a run's scalar details do not hold. Shared by the paper's drawers and claims."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Experiment, Record
from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.problem import PROBLEM, model_of

LEVELS = ("light", "normal", "heavy")
LAYERS = ("satellite-LBS", "LBS-server", "server-container")


def _json(rec: Record, column: str) -> dict[str, Any]:
    raw = rec.row.get(column) if rec.ok and rec.row is not None else None
    if raw is None:
        return {}
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def details(rec: Record) -> dict[str, Any]:
    """A stored run's details (empty while not stored or failed)."""
    return _json(rec, "details_json")


def stats(rec: Record) -> dict[str, Any]:
    """A stored run's stats (empty while not stored or failed)."""
    return _json(rec, "stats_json")


def runs(exp: Experiment, label: str, point: dict[str, Any]) -> list[Record]:
    """Successful runs of ``label`` at ``point``."""
    return [r for r in exp.at(label, point) if r.ok]


def mean_detail(exp: Experiment, label: str, point: dict[str, Any], key: str) -> float:
    """Mean of a details key over a cell's stored runs, feasible or not (nan without runs)."""
    vals = [float(d[key]) for d in map(details, runs(exp, label, point)) if d.get(key) is not None]
    return float(np.mean(vals)) if vals else math.nan


def infeasible(exp: Experiment, label: str, point: dict[str, Any]) -> int:
    """Stored runs of a cell that broke a constraint."""
    return sum(not details(r).get("feasible", True) for r in runs(exp, label, point))


def messages(rec: Record) -> dict[str, float]:
    """Messages per layer of one run (zeros for a solver that does not count them)."""
    counted = stats(rec).get("messages") or {}
    return {layer: float(counted.get(layer, 0)) for layer in LAYERS}


def n_tasks(rec: Record) -> int:
    """Tasks of the run's instance (the length of its stored decision)."""
    return len(_json(rec, "decision_json").get("offload", []))


def level_points(exp: Experiment) -> list[dict[str, Any]]:
    """Grid points ordered light, normal, heavy (others after them, in spec order)."""
    order = {lev: j for j, lev in enumerate(LEVELS)}
    return sorted(exp.points, key=lambda p: order.get(p.get("arrivals", ""), len(order)))


def level_name(point: dict[str, Any]) -> str:
    """'heavy' for an arrivals grid point, else the point's own label."""
    return str(point.get("arrivals") or ", ".join(f"{k}={v}" for k, v in point.items()))


def rebuilt(rec: Record) -> tuple[Model, np.ndarray]:
    """The run's instance model and its per-task target (-1 on board, else container), from the stored
    decision and the instance regenerated from its seed, preset and parameters (generation is deterministic)."""
    assert rec.row is not None
    data = PROBLEM.make_instance(rec.instance_seed, rec.row["preset"], **json.loads(rec.row["params_json"]))
    model = model_of(PROBLEM.load_instance(data))
    dec = _json(rec, "decision_json")
    off = np.asarray(dec["offload"], float) > 0.5
    target = np.where(off, np.argmax(np.asarray(dec["container"], float), axis=1), -1)
    return model, target


def busy_cores(model: Model, target: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean fraction of busy container cores in each interval [edges[k], edges[k+1]) (CPU utilisation)."""
    sim = model.simulate(target)
    done = np.concatenate([sim["pre_done"], sim["done"]])
    cores_used = np.concatenate([np.ones(sim["pre_done"].size), model.inst.task_slots[target >= 0]])
    start = done - model.p.server_task_s
    # busy core-seconds of every task inside each interval, summed: overlap of [start, done) with the interval
    lo, hi = edges[:-1, None], edges[1:, None]
    overlap = np.clip(np.minimum(hi, done[None, :]) - np.maximum(lo, start[None, :]), 0.0, None) @ cores_used
    cores = sum(model.p.slots_per_container)
    return overlap / (np.diff(edges) * cores)
