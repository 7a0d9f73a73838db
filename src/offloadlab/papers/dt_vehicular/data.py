"""Seed 004's stored runs as tables: each cost term per (method, twin bias, N), series and training records."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Experiment, Record

TERMS = {
    "energy_j": "System energy per slot (J)",
    "latency_s": "Mean task latency (s)",
    "qos": "System QoS",
    "edge_energy_j": "Edge energy per slot (J)",
    "resource_ratio": "Resource ratio (sum of alpha)",
    "queue_bytes": "Mean backlog (bytes)",
    "p2": "Mean P2 per slot",
}
# The paper's methods by solver name, in legend order, then ours.
PAPER_NAMES = {
    "llm-icl": "LLM",
    "marl": "MARL",
    "sarl": "SARL",
    "lyapunov": "Lyapunov",
    "sarl-global": "SARL-global",
    "random": "Random",
    "local": "Local",
}
LEARNERS = ("llm-icl", "marl", "sarl")

Key = tuple[str, float, int]  # (solver, delta_f, N)


def details(rec: Record) -> dict[str, Any]:
    """The stored details of a run."""
    return json.loads(rec.row["details_json"]) if rec.ok and rec.row else {}


def stats(rec: Record) -> dict[str, Any]:
    """The stored stats of a run."""
    return json.loads(rec.row.get("stats_json") or "{}") if rec.ok and rec.row else {}


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and x is not None else math.nan


def term_table(exp: Experiment) -> dict[Key, dict[str, float]]:
    """(solver, delta_f, N) -> mean of every cost term over the stored runs (first label of a solver)."""
    acc: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    firsts = {s: exp.labels_of(s)[0] for s in {r.solver for r in exp.records}}
    for rec in exp.records:
        if rec.ok and rec.label == firsts[rec.solver]:
            key = (
                rec.solver,
                float(rec.point.get("delta_f", exp.spec.get("params", {}).get("delta_f", 0.0))),
                int(rec.point.get("N", exp.spec.get("params", {}).get("N", 0))),
            )
            acc[key].append(details(rec))
    return {k: {t: float(np.mean([_num(d.get(t)) for d in v])) for t in TERMS} for k, v in acc.items()}


def methods(data: dict[Key, dict[str, float]]) -> list[str]:
    """Solvers present, in the paper's order."""
    seen = {k[0] for k in data}
    return [s for s in PAPER_NAMES if s in seen] + sorted(seen - set(PAPER_NAMES))


def biases(data: dict[Key, dict[str, float]]) -> list[float]:
    """Twin biases present, ascending."""
    return sorted({k[1] for k in data})


def sizes(data: dict[Key, dict[str, float]]) -> list[int]:
    """Numbers of vehicles present, ascending."""
    return sorted({k[2] for k in data})


def series(data: dict[Key, dict[str, float]], solver: str, df: float, term: str) -> tuple[list[int], list[float]]:
    """(N values, term values) of one method at one bias."""
    pts = sorted((n, v[term]) for (s, d, n), v in data.items() if s == solver and d == df)
    return [p[0] for p in pts], [p[1] for p in pts]


def name(solver: str) -> str:
    """The paper's name of a method."""
    return PAPER_NAMES.get(solver, solver)
