"""Solvers of dt-vehicular: each runs a per-slot policy through the instance's episode.

Registered here: ``local``, ``random`` and ``lyapunov``; the learning methods register from their
own modules (``marl``, ``sarl``, ``llm-icl``), imported at the end.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.scenarios.dt_vehicular.lyapunov import solve_slot
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode, Simulator, SlotState, run_policy

Policy = Callable[[SlotState], tuple[np.ndarray, np.ndarray]]
SERIES = ("p2", "energy_j", "latency_s", "qos", "queue_bytes")


def episode_result(sim: Simulator, tracker: Tracker, **stats: Any) -> Result:
    """Package a finished episode: mean decisions, every cost term, per-slot series and stats."""
    summary = {k: float(v[0]) for k, v in sim.log.summary().items()}
    omegas, alphas = np.stack(sim.omegas), np.stack(sim.alphas)
    tracker.record(sim.params.slots, summary["p2"])
    decisions = {
        "omega_mean": omegas.mean(axis=0), "alpha_mean": alphas.mean(axis=0),
        "omega_mean_over_tasks": float(omegas.mean()), "alpha_sum_mean": float(alphas.sum(axis=(1, 2)).mean()),
        "share_local": float((omegas <= 1e-9).mean()), "share_whole": float((omegas >= 1 - 1e-9).mean()),
        "share_partial": float(((omegas > 1e-9) & (omegas < 1 - 1e-9)).mean()),
    }
    series = {k: v[:, 0] for k, v in sim.log.series().items() if k in SERIES}
    details = {**summary, "final_queue_bytes": float(sim.queue.sum()), "decisions": decisions, "series": series}
    return Result(decision={"omega": decisions["omega_mean"], "alpha": decisions["alpha_mean"]},
                  objective=summary["p2"], feasible=True, history=tracker.history, stats=tracker.stats(**stats),
                  details=details)


def run_and_report(episode: Episode, policy: Policy, budget: int | None, **stats: Any) -> Result:
    """Run ``policy`` through the episode and package the result."""
    tracker = Tracker(budget)
    return episode_result(run_policy(episode, policy), tracker, **stats)


@register_solver("local", SCENARIO_ID, "every task computed on its vehicle (omega = 0, alpha = 0)")
def solve_local(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """All-local baseline."""
    zeros = np.zeros((instance.params.N, instance.params.K))
    return run_and_report(instance, lambda s: (zeros, zeros), budget)


@register_solver("random", SCENARIO_ID, "uniform random omega and alpha every slot, scaled to the capacity")
def solve_random(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """Random baseline: a fresh uniform decision per slot, projected onto the constraints."""
    shape = (instance.params.N, instance.params.K)
    return run_and_report(instance, lambda s: (rng.uniform(size=shape), rng.uniform(size=shape)), budget)


@register_solver("lyapunov", SCENARIO_ID,
                 "drift-plus-penalty: P2 (eq. 24) solved each slot by Lagrangian relaxation with a certified gap")
def solve_lyapunov(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator) -> Result:
    """Minimise P2 exactly (up to the reported duality gap) in every slot, given the current queues."""
    gaps: list[float] = []

    def policy(s: SlotState) -> tuple[np.ndarray, np.ndarray]:
        sol = solve_slot(instance.params, s.rate_bps, s.task_bytes, s.queue)
        gaps.append(sol.gap)
        return sol.omega, sol.alpha

    res = run_and_report(instance, policy, budget)
    res.stats.update(max_duality_gap=float(max(gaps)), mean_duality_gap=float(np.mean(gaps)))
    return res
