"""Registration of the learned solvers; torch is imported only when one runs."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.scenarios.mec_queues.params import SCENARIO_ID


@register_solver(
    "dqn",
    SCENARIO_ID,
    "Tang & Wong's DRL: per-device dueling double DQN with an LSTM over server loads (retrained for each server count)",
    budget_unit="training_slots",
    smoke=Smoke(budget=24),
)
def dqn(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    threads: Annotated[int, Field(ge=1, le=64, description="torch threads")] = 1,
    eps_increment: Annotated[
        float, Field(gt=0, le=1, description="rise of the greedy probability per learning step")
    ] = 0.00025,
    lr: Annotated[float, Field(gt=0, le=1, description="RMSProp learning rate")] = 0.01,
) -> Result:
    """Train per-device agents for ``budget`` slots (default 5 episodes), then play the instance greedily."""
    from offloadlab.methods.mec_queues.dqn import dqn as run

    return run(problem, instance, budget, rng, threads=threads, eps_increment=eps_increment, lr=lr)
