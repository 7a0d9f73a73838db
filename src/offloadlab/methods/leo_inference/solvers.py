"""Registered solvers of leo-inference: leoedge, reference, threshold, workload, local-only, central.

All run online, round by round (``rounds.run_rounds``). Budget: none (each round runs to its own stopping
rule). Common option ``use_relay``: False keeps tasks whose only path is a relay (Algorithm 4) on board.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.methods.leo_inference.baselines import central_policy, threshold_policy, workload_policy
from offloadlab.methods.leo_inference.dual import (
    DualOptions,
    Multipliers,
    decompose,
    messages_per_iteration,
    relaxed_objective,
    round_relaxed,
)
from offloadlab.methods.leo_inference.reference import solve_round
from offloadlab.methods.leo_inference.rounds import Policy, RoundLog, RoundProblem, run_rounds
from offloadlab.scenarios.leo_inference import links
from offloadlab.scenarios.leo_inference.instance import SCENARIO_ID, LeoInstance
from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.problem import model_of
from offloadlab.solvers.common import finish

UseRelay = Annotated[bool, Field(description="offload over a relay (Algorithm 4) too; false: direct contact only")]
DEFAULTS = DualOptions()


def _candidates(model: Model, use_relay: bool, positive: bool = True) -> np.ndarray:
    mask = model.reachable & ((model.benefit > 0) if positive else True)
    return mask if use_relay else mask & (model.paths.kind == links.DIRECT)


def _run(
    problem: Any, instance: LeoInstance, policy: Policy, candidates: np.ndarray, **stats: Any
) -> tuple[Result, RoundLog]:
    model = model_of(instance)
    tracker = Tracker(None)
    target, log = run_rounds(model, policy, candidates)
    res = finish(
        problem,
        instance,
        model.decision_from_targets(target),
        tracker,
        messages=dict(log.messages),
        held_for_window=log.held_for_window,
        **stats,
    )
    tracker.record(1, res.objective)
    res.history = tracker.history
    return res, log


@register_solver(
    "leoedge",
    SCENARIO_ID,
    "LEOEdge three-layer dual decomposition (corrected signs; literal=True: eqs. 18-23 as printed)",
    budget_unit="none",
)
def solve_leoedge(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    literal: Annotated[bool, Field(description="eqs. 18-23 as printed, sign errors included")] = False,
    step_scale: Annotated[
        float, Field(gt=0, le=100, description="scale of the primal-dual steps derived from each round")
    ] = DEFAULTS.step_scale,
    max_iter: Annotated[
        int, Field(ge=1, le=100_000, description="safety cap on iterations per round (a normal run stops earlier)")
    ] = DEFAULTS.max_iter,
    tol: Annotated[float, Field(gt=0, le=1, description="relative duality gap of the stopping rule")] = DEFAULTS.tol,
    tol_violation: Annotated[
        float, Field(gt=0, le=1e6, description="constraint violation (tasks) of the stopping rule")
    ] = DEFAULTS.tol_violation,
    warm_start: Annotated[bool, Field(description="start each round from the last round's multipliers")] = True,
    use_relay: UseRelay = True,
    with_reference: Annotated[
        bool, Field(description="also solve each round's LP and MILP (HiGHS) for a side-by-side")
    ] = False,
) -> Result:
    """Per round: the decomposition to its stopping rule, then the stated rounding rule; with ``warm_start``
    the round's final lambda, mu, eta, zeta start the next round (the paper's use of historical information).
    ``stats`` reports the iterations actually run, how many rounds hit ``max_iter`` and the messages of the
    iterations run; ``with_reference`` also solves each of these rounds' LP and MILP (HiGHS) and sums them
    (``stats.round_lp``, ``stats.round_milp``), the side-by-side on identical rounds."""
    # the bounds above hold for options from the CLI and specs; these checks for direct calls
    for name, v in (("step_scale", step_scale), ("tol", tol), ("tol_violation", tol_violation)):
        if not v > 0:
            raise InputError(f"option {name}", f"must be > 0, got {v}")
    if max_iter < 1:
        raise InputError("option max_iter", f"must be >= 1, got {max_iter}")
    opt = DualOptions(step_scale, max_iter, tol, tol_violation, literal)
    mult = Multipliers()
    hist: list[list[float]] = []

    def policy(rp: RoundProblem, log: RoundLog) -> np.ndarray:
        res = decompose(rp, opt, mult if warm_start else Multipliers())
        for k, v in messages_per_iteration(rp).items():
            log.messages[k] += v * res.iterations
        log.iterations.append(res.iterations)
        log.add("cap_hit", not res.converged)
        log.add("relaxed_objective", relaxed_objective(rp.benefit, res.y1, res.y3))
        log.add("violation", res.final_violation)
        if with_reference:
            log.add("lp", solve_round(rp, relax=True)[0])
            log.add("milp", solve_round(rp)[0])
        if len(hist) < 5:  # convergence histories of the first rounds
            hist.append(res.objective)
        out = round_relaxed(rp, res)
        log.add("rounded", float(rp.benefit[out >= 0].sum()))
        return out

    out, log = _run(problem, instance, policy, _candidates(model_of(instance), use_relay))
    it = np.asarray(log.iterations or [0])
    out.stats.update(
        rounds=len(log.iterations),
        mean_iterations=float(it.mean()),
        max_iterations=int(it.max()),
        cap_hits=int(np.sum(log.extra.get("cap_hit", [0.0]))) if not literal else len(log.iterations),
        relaxed_objective=float(np.sum(log.extra.get("relaxed_objective", [0.0]))),
        max_relaxed_violation=float(np.max(log.extra.get("violation", [0.0]))),
        literal=literal,
    )
    if with_reference:
        out.stats.update({f"round_{k}": float(np.sum(log.extra.get(k, [0.0]))) for k in ("lp", "milp", "rounded")})
    out.details["convergence"] = hist
    return out


@register_solver(
    "reference", SCENARIO_ID, "each round solved centrally: MILP (HiGHS), with its LP relaxation", budget_unit="none"
)
def solve_reference(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    use_relay: UseRelay = True,
) -> Result:
    """Per round the integer optimum of eq. (8) with linking; the LP optimum is summed in ``stats``."""

    def policy(rp: RoundProblem, log: RoundLog) -> np.ndarray:
        lp, _, _ = solve_round(rp, relax=True)
        ip, y1, y3 = solve_round(rp)
        log.add("lp", lp)
        log.add("milp", ip)
        return np.where(y1 > 0.5, np.argmax(y3, axis=1), -1)

    out, log = _run(problem, instance, policy, _candidates(model_of(instance), use_relay))
    out.stats.update(
        lp_objective=float(np.sum(log.extra.get("lp", [0.0]))),
        milp_objective=float(np.sum(log.extra.get("milp", [0.0]))),
    )
    return out


@register_solver(
    "threshold", SCENARIO_ID, "offload tasks whose on-board time per image exceeds 20 ms", budget_unit="none"
)
def solve_threshold(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    threshold_ms: Annotated[
        float, Field(ge=0, le=1e6, description="offload tasks slower on board than this per image")
    ] = 20.0,
    use_relay: UseRelay = True,
) -> Result:
    """The paper's threshold baseline (ignores the load constraint)."""
    if not threshold_ms >= 0:
        raise InputError("option threshold_ms", f"must be >= 0, got {threshold_ms}")
    model = model_of(instance)
    slow = instance.local_ms_per_image[instance.task_sat] > threshold_ms
    cand = _candidates(model, use_relay, positive=False) & slow
    return _run(problem, instance, threshold_policy(slow), cand)[0]


@register_solver("workload", SCENARIO_ID, "offload while the mean container load is below 50 %", budget_unit="none")
def solve_workload(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    max_load: Annotated[float, Field(description="offload while the mean container load is below this")] = 0.5,
    use_relay: UseRelay = True,
) -> Result:
    """The paper's workload-based baseline (ignores the local execution time)."""
    if not 0 < max_load <= 1:
        raise InputError("option max_load", f"must be in (0, 1], got {max_load}")
    cand = _candidates(model_of(instance), use_relay, positive=False)
    return _run(problem, instance, workload_policy(max_load), cand)[0]


@register_solver("local-only", SCENARIO_ID, "every task runs on board (the paper's no-edge curve)", budget_unit="none")
def solve_local(problem: Any, instance: LeoInstance, budget: int | None, rng: np.random.Generator) -> Result:
    """All local."""
    tracker = Tracker(None)
    res = finish(problem, instance, problem.local_decision(instance), tracker)
    tracker.record(1, res.objective)
    res.history = tracker.history
    return res


@register_solver(
    "central", SCENARIO_ID, "extension: flat centralised scheduler (message-count comparator)", budget_unit="none"
)
def solve_central(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    use_relay: UseRelay = True,
) -> Result:
    """Greedy by benefit at the station, every round; counts its messages."""
    return _run(problem, instance, central_policy, _candidates(model_of(instance), use_relay))[0]
