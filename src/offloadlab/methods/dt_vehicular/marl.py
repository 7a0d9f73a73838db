"""MARL baseline: MADDPG with one agent per vehicle, trained on the PettingZoo env (``learners.py``).

Each vehicle has its own actor (its own observation: s_n(t) of eq. 25 and the server's backlogs ->
its omega and alpha) and its own centralised critic (every observation and action -> Q). Settings of
the paper: three hidden layers with ReLU, ReLU and tanh; gamma = 0.95 and lambda = tau = 0.01
(Table I); the rest is documented in ``hyper.MaddpgParams``.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.methods.dt_vehicular.hyper import (
    MADDPG,
    BatchSize,
    Checkpoint,
    Episodes,
    Gamma,
    Hidden,
    LearnerParams,
    LearningRate,
    LrDecay,
    LrFloor,
    MaddpgParams,
    Noise,
    NoiseDecay,
    PolicyDelay,
    Tau,
)
from offloadlab.methods.dt_vehicular.learners import ActorCritics, actor_policy, train
from offloadlab.methods.dt_vehicular.results import Policy, run_and_report
from offloadlab.methods.dt_vehicular.training import checkpoint_meta, checkpoint_path
from offloadlab.rl.common import seed_torch, settings_of
from offloadlab.rl.record import loaded
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode

HIDDEN = tuple(MADDPG.hidden)
Maddpg = ActorCritics  # MADDPG is ActorCritics with centralised critics (MaddpgParams)


def maddpg_policy(agents: ActorCritics, K: int) -> Policy:
    """The trained actors as a per-slot policy (no exploration noise)."""
    return actor_policy(agents, K)


def learned_agents(
    instance: Episode,
    rng: np.random.Generator,
    budget: int | None,
    hp: LearnerParams,
    method: str,
    checkpoint: str | None,
    progress: bool,
) -> tuple[ActorCritics, dict[str, Any]]:
    """Load the agents from ``checkpoint`` if it exists (refused if trained for another setting or budget),
    else train them for ``budget`` slots (default ``hp.episodes`` episodes) and save them there if given.
    Returns the agents and the run's stats (the training record)."""
    p = instance.params
    seed_torch(rng)
    steps = budget or hp.episodes * p.slots
    settings = {**hp.model_dump(exclude={"episodes"}), "hidden": list(hp.hidden)}
    meta = checkpoint_meta(p, method, **settings, slots=p.slots, training_steps=steps)
    path = checkpoint_path(checkpoint, p, instance.seed)
    if path is not None and path.exists():
        obs_dim = 2 * p.K + 3 if hp.observation == "shared" else p.K + 3
        agents = ActorCritics(p.N, obs_dim, 2 * p.K, hp)
        agents.load(path, meta)
        return agents, loaded(str(path), steps)
    agents, record = train(p, rng, steps, hp, method.upper(), progress)
    if path is not None:
        agents.save(path, meta)
    return agents, record.stats()


def trained_agents(
    instance: Episode,
    rng: np.random.Generator,
    budget: int | None,
    *,
    checkpoint: str | None,
    progress: bool,
    **options: Any,
) -> tuple[ActorCritics, dict[str, Any]]:
    """MADDPG agents with ``options`` (fields of ``MaddpgParams``): loaded from ``checkpoint`` if it
    exists, else trained (and saved there if given)."""
    return learned_agents(instance, rng, budget, settings_of(MaddpgParams, options), "maddpg", checkpoint, progress)


@register_solver(
    "marl",
    SCENARIO_ID,
    "MADDPG, one agent per vehicle (trained on the PettingZoo env; --checkpoint)",
    budget_unit="training_slots",
    smoke=Smoke(options={"episodes": 1, "progress": False}),
)
def solve_marl(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    episodes: Episodes = MADDPG.episodes,
    checkpoint: Checkpoint | None = None,
    hidden: Hidden = HIDDEN,
    lr_actor: LearningRate = MADDPG.lr_actor,
    lr_critic: LearningRate = MADDPG.lr_critic,
    gamma: Gamma = MADDPG.gamma,
    tau: Tau = MADDPG.tau,
    batch_size: BatchSize = MADDPG.batch_size,
    noise: Noise = MADDPG.noise,
    noise_decay: NoiseDecay = MADDPG.noise_decay,
    lr_floor: LrFloor = MADDPG.lr_floor,
    lr_decay: LrDecay = MADDPG.lr_decay,
    policy_delay: PolicyDelay = MADDPG.policy_delay,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
) -> Result:
    """Train (``budget`` slots, default ``episodes`` episodes) or load MADDPG, then run it through the episode."""
    hp = settings_of(MaddpgParams, locals())
    agents, stats = learned_agents(instance, rng, budget, hp, "maddpg", checkpoint, progress)
    return run_and_report(instance, maddpg_policy(agents, instance.params.K), None, **stats)


__all__ = ["HIDDEN", "Maddpg", "learned_agents", "maddpg_policy", "solve_marl", "trained_agents"]
