"""SARL baseline as the paper reads it: each vehicle a single-agent learner deciding on local information.

"SARL ... makes decisions based on local information" (Section V-C): vehicle n's DDPG actor and
critic see only its own s_n(t) of eq. (25) (its K task sizes, position, speed and channel gain; not
the server's backlogs nor the other vehicles), there is no centralised critic, and every learner is
trained on the shared reward -P2 of the slot. Hidden layers as MARL's, all ReLU (the paper's SARL).
The earlier reading, one agent deciding for every vehicle from the global state, is kept as the
extra solver ``sarl-global`` (``sarl_global.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.methods.dt_vehicular.hyper import (
    SARL,
    BatchSize,
    Checkpoint,
    Episodes,
    Gamma,
    Hidden,
    LearningRate,
    LrDecay,
    LrFloor,
    Noise,
    NoiseDecay,
    PolicyDelay,
    SarlParams,
    Tau,
)
from offloadlab.methods.dt_vehicular.learners import actor_policy
from offloadlab.methods.dt_vehicular.marl import learned_agents
from offloadlab.methods.dt_vehicular.results import run_and_report
from offloadlab.rl.common import settings_of
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode


@register_solver(
    "sarl",
    SCENARIO_ID,
    "independent single-agent DDPG per vehicle on its own local observation "
    "(no centralised critic), ReLU networks (--checkpoint)",
    budget_unit="training_slots",
    smoke=Smoke(options={"episodes": 1, "progress": False}),
)
def solve_sarl(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    episodes: Episodes = SARL.episodes,
    checkpoint: Checkpoint | None = None,
    hidden: Hidden = SARL.hidden,
    lr_actor: LearningRate = SARL.lr_actor,
    lr_critic: LearningRate = SARL.lr_critic,
    gamma: Gamma = SARL.gamma,
    tau: Tau = SARL.tau,
    batch_size: BatchSize = SARL.batch_size,
    noise: Noise = SARL.noise,
    noise_decay: NoiseDecay = SARL.noise_decay,
    lr_floor: LrFloor = SARL.lr_floor,
    lr_decay: LrDecay = SARL.lr_decay,
    policy_delay: PolicyDelay = SARL.policy_delay,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
) -> Result:
    """Train (``budget`` slots, default ``episodes`` episodes) or load the learners, then run them."""
    hp = settings_of(SarlParams, locals())
    agents, stats = learned_agents(instance, rng, budget, hp, "sarl", checkpoint, progress)
    return run_and_report(instance, actor_policy(agents, instance.params.K), None, **stats)
