"""Registration of the learned solvers; torch is imported only when one runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.methods.mec_queues.dqn_params import DQN, EpsIncrement
from offloadlab.rl.common import LearningRate, Threads
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
    threads: Threads = DQN.threads,
    eps_increment: EpsIncrement = DQN.eps_increment,
    lr: LearningRate = DQN.lr,
) -> Result:
    """Train per-device agents for ``budget`` slots (default ``DqnParams.episodes`` episodes, the comllm preset's
    plateau), then play the instance greedily."""
    from offloadlab.methods.mec_queues.dqn import dqn as run

    return run(problem, instance, budget, rng, threads=threads, eps_increment=eps_increment, lr=lr)
