"""Registration of the learned solvers; torch is imported only when one runs."""

from __future__ import annotations

from typing import Any

import numpy as np

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
def dqn(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator, **options: Any) -> Result:
    """Train per-device agents for ``budget`` slots (default 5 episodes), then play the instance greedily;
    options: threads (1), eps_increment (0.00025), lr (0.01)."""
    from offloadlab.methods.mec_queues.dqn import dqn as run

    return run(problem, instance, budget, rng, **options)
