"""How a dt-vehicular solver reports: one finished episode packaged as a Result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from offloadlab.core.result import Result, Tracker
from offloadlab.scenarios.dt_vehicular.model import Episode, Simulator, SlotState, run_policy

Policy = Callable[[SlotState], tuple[np.ndarray, np.ndarray]]
SERIES = ("p2", "energy_j", "latency_s", "qos", "queue_bytes")


def episode_result(sim: Simulator, tracker: Tracker, **stats: Any) -> Result:
    """Package a finished episode: mean decisions, every cost term, per-slot series and stats."""
    summary = {k: float(v[0]) for k, v in sim.summary().items()}
    omegas, alphas = np.stack(sim.omegas), np.stack(sim.alphas)
    tracker.record(sim.params.slots, summary["p2"])
    decisions = {
        "omega_mean": omegas.mean(axis=0),
        "alpha_mean": alphas.mean(axis=0),
        "omega_mean_over_tasks": float(omegas.mean()),
        "alpha_sum_mean": float(alphas.sum(axis=(1, 2)).mean()),
        "share_local": float((omegas <= 1e-9).mean()),
        "share_whole": float((omegas >= 1 - 1e-9).mean()),
        "share_partial": float(((omegas > 1e-9) & (omegas < 1 - 1e-9)).mean()),
    }
    series = {k: v[:, 0] for k, v in sim.log.series().items() if k in SERIES}
    details = {**summary, "decisions": decisions, "series": series}
    finite = bool(np.isfinite(summary["p2"]))  # a slot infinitely late (no CPU for offloaded work) is never feasible
    if not finite:
        details["infeasible_reason"] = "non-finite mean P2 (a task offloaded without CPU or an overflow)"
    return Result(
        decision={"omega": decisions["omega_mean"], "alpha": decisions["alpha_mean"]},
        objective=summary["p2"],
        feasible=finite,
        history=tracker.history,
        stats=tracker.stats(**stats),
        details=details,
    )


def run_and_report(episode: Episode, policy: Policy, budget: int | None, **stats: Any) -> Result:
    """Run ``policy`` through the episode and package the result."""
    tracker = Tracker(budget)
    return episode_result(run_policy(episode, policy), tracker, **stats)
