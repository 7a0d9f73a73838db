"""Heuristic and oracle solvers of mec-queues: each a policy played through the episode (closed loop).

``random`` is the authors' only baseline; ``greedy-oracle`` and ``comllm-oracle`` are the label sources
(issue 16); ``local``, ``round-robin``, ``least-loaded`` and ``lookahead-oracle`` are our extensions.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import register_solver
from offloadlab.core.resources import check_batch
from offloadlab.core.result import Result
from offloadlab.methods.mec_queues.episode import run_policy
from offloadlab.methods.mec_queues.lookahead import DEFAULT_ROLLOUT, RolloutPolicy, lookahead_actions
from offloadlab.scenarios.mec_queues import oracles
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.params import SCENARIO_ID
from offloadlab.scenarios.mec_queues.sim import QueueSim


def _instance(problem: Any, instance: Any) -> MecInstance:
    return instance if isinstance(instance, MecInstance) else problem.load_instance(instance)


@register_solver(
    "random", SCENARIO_ID, "uniform over local and every server, per task (the authors' baseline)", budget_unit="none"
)
def random_policy(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """Each task to a uniformly drawn action in {local, 1..S}."""
    inst = _instance(problem, instance)
    S = inst.params.servers
    return run_policy(inst, lambda sim: np.asarray(rng.integers(0, S + 1, size=sim.D)), label="baseline (authors)")


@register_solver("local", SCENARIO_ID, "every task on its device (extension)", budget_unit="none")
def local_policy(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """All tasks computed locally."""
    return run_policy(_instance(problem, instance), lambda sim: np.zeros(sim.D, dtype=np.int64), label="extension")


@register_solver("round-robin", SCENARIO_ID, "tasks to servers 1..S in turn (extension)", budget_unit="none")
def round_robin(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """One counter over all tasks in (slot, device) order; task k goes to server (k mod S) + 1."""
    inst = _instance(problem, instance)
    S = inst.params.servers
    state = {"next": 0}

    def policy(sim: QueueSim) -> np.ndarray:
        acts = np.zeros(sim.D, dtype=np.int64)
        devs = oracles.arriving(sim)
        acts[devs] = (state["next"] + np.arange(devs.size)) % S + 1
        state["next"] += devs.size
        return acts

    return run_policy(inst, policy, label="extension")


@register_solver(
    "least-loaded", SCENARIO_ID, "server with the least queued work in slots (extension)", budget_unit="none"
)
def least_loaded(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """Each task to the server whose queued and uploading Mbit / capacity is least."""
    return run_policy(_instance(problem, instance), lambda sim: oracles.least_loaded_actions(sim)[0], label="extension")


@register_solver(
    "greedy-oracle", SCENARIO_ID, "least own delay from exact simulator copies, no future arrivals", budget_unit="none"
)
def greedy_oracle(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """Simulator greedy oracle (copy the state, try every action, advance without new arrivals)."""
    inst = _instance(problem, instance)
    check_batch(inst, inst.params.servers + 1, "params.servers")  # one simulator copy per action
    return run_policy(inst, oracles.greedy_oracle_actions, label="oracle (simulator)")


@register_solver(
    "comllm-oracle", SCENARIO_ID, "argmin of the authors' one-step cost (their label source)", budget_unit="none"
)
def comllm_oracle(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """The authors' oracle: least one-step cost on each task's text state."""
    return run_policy(_instance(problem, instance), oracles.comllm_oracle_actions, label="oracle (authors' formula)")


@register_solver(
    "lookahead-oracle",
    SCENARIO_ID,
    "Monte Carlo simulator rollouts with sampled future arrivals (extension)",
    budget_unit="none",
)
def lookahead_oracle(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    horizon: Annotated[int, Field(description="slots simulated ahead (0 to 100)")] = 3,
    rollouts: Annotated[int, Field(description="simulated futures per task (1 to 1000)")] = 4,
    rollout_policy: Annotated[
        RolloutPolicy,
        Field(
            description="who places the sampled later tasks in a rollout: comllm-oracle (the authors' one-step "
            "label, every copy at once; default, chosen by measurement), greedy-oracle (simulator greedy, about "
            "S + 1 times dearer) or least-loaded (never computes locally)"
        ),
    ] = DEFAULT_ROLLOUT,
) -> Result:
    """Each task: the action of least total delay over ``rollouts`` simulated futures of ``horizon`` slots."""
    if not 0 <= horizon <= 100:
        raise InputError("option horizon", f"must be an integer in [0, 100] (got {horizon})")
    if not 1 <= rollouts <= 1000:
        raise InputError("option rollouts", f"must be an integer in [1, 1000] (got {rollouts})")
    inst = _instance(problem, instance)
    check_batch(inst, (inst.params.servers + 1) * rollouts, "option rollouts")  # copies per action and rollout
    return run_policy(
        inst,
        lambda sim: lookahead_actions(sim, rng, horizon, rollouts, rollout_policy),
        label="extension",
        horizon=horizon,
        rollouts=rollouts,
        rollout_policy=rollout_policy,
    )
