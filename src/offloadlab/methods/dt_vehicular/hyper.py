"""Documented, bounded hyper-parameters of dt-vehicular's learners (CleanRL style: one typed field per knob).

The same ``Annotated`` types bound the solvers' keyword options (``core.options`` builds each solver's
option model from its signature), and the solvers take their defaults from these models, so a knob is
declared once. Bounds are sanity limits: a value outside them is a typo or an attack, not a setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from offloadlab.rl.common import BatchSize, Gamma, Hidden, HyperParams, LearningRate
from offloadlab.scenarios.dt_vehicular.env import Observation

Episodes = Annotated[int, Field(ge=1, le=100_000, description="training episodes (budget: training slots instead)")]
Tau = Annotated[float, Field(gt=0, le=1, description="soft target update rate (the paper's lambda)")]
Noise = Annotated[float, Field(ge=0, le=10, description="std of the Gaussian exploration noise on [0, 1] actions")]
NoiseDecay = Annotated[
    float, Field(gt=0, le=1, description="share of the training budget over which the exploration std falls to a tenth")
]
LrFloor = Annotated[
    float, Field(gt=0, le=1, description="final learning rates as a share of the initial ones (linear decay)")
]
LrDecay = Annotated[
    float, Field(gt=0, le=1, description="share of the training budget over which the learning rates fall to lr_floor")
]
PolicyDelay = Annotated[int, Field(ge=1, le=100, description="critic updates per actor and target update")]
Checkpoint = Annotated[str, Field(min_length=1, max_length=4096, description="checkpoint path template")]


class LearnerParams(HyperParams):
    """One actor and one critic per vehicle, trained off-policy from a replay buffer (DDPG family)."""

    episodes: Episodes = Field(default=40, description="training episodes of ``slots`` slots each, fresh seeded")
    hidden: Hidden = Field(
        default=(300, 100, 64),
        description="three hidden layers as in the paper; widths 300, 100 from the authors' "
        "released code for their earlier DT network",
    )
    lr_actor: LearningRate = Field(default=2e-4, description="actor learning rate (1e-3 diverged here)")
    lr_critic: LearningRate = Field(default=1e-3, description="critic learning rate")
    gamma: Gamma = Field(default=0.95, description="discount factor, Table I")
    tau: Tau = Field(default=0.01, description="soft update rate lambda, Table I")
    batch_size: BatchSize = Field(default=64, description="replay minibatch")
    noise: Noise = Field(default=0.2, description="initial exploration std, decayed linearly to 10 % of it")
    noise_decay: NoiseDecay = Field(
        default=1.0, description="share of the training budget over which the exploration std falls to its floor"
    )
    lr_floor: LrFloor = Field(
        default=1.0, description="learning rates at the end of their decay, as a share of the initial ones"
    )
    lr_decay: LrDecay = Field(
        default=1.0, description="share of the training budget over which the rates fall linearly to lr_floor"
    )
    policy_delay: PolicyDelay = Field(
        default=1, description="critic updates per actor and target update (TD3's delay; 1: every update, DDPG)"
    )
    buffer_size: int = Field(default=200_000, ge=1, le=10_000_000, description="replay capacity (transitions)")
    warmup_batches: int = Field(
        default=10,
        ge=0,
        le=10_000,
        description="uniform-random slots before learning, in batches (at most a fifth of the budget)",
    )
    tanh_last: bool = Field(default=True, description="the paper's MARL: ReLU hidden layers, the last one tanh")
    centralised: bool = Field(default=True, description="critic input: every agent's observation and action")
    observation: Observation = Field(default="shared", description="own s_n(t) and the server's backlogs")


class MaddpgParams(LearnerParams):
    """MADDPG (Section IV-A): each critic sees every vehicle's observation and action (centralised)."""


class SarlParams(LearnerParams):
    """SARL as the paper reads it: each vehicle a single-agent DDPG learner on its own local observation."""

    tanh_last: bool = Field(default=False, description="the paper's SARL: ReLU throughout")
    centralised: bool = Field(default=False, description="critic input: own observation and action only")
    observation: Observation = Field(default="local", description="own s_n(t) of eq. (25) only")
    # The paper gives SARL no learning rate. With MADDPG's 2e-4 the independent learners collapsed after the
    # warm-up (N = 8, 2000 slots: fifth means -0.58, -2.96, -6.63, -5.94, -5.43); with 2e-5 they plateau
    # (-0.58, 0.01, -0.00, 0.13, 0.11), so SARL is compared trained, as the paper's figures assume.
    lr_actor: LearningRate = Field(default=2e-5, description="actor learning rate (MADDPG's 2e-4 collapsed here)")


MADDPG = MaddpgParams()
SARL = SarlParams()


Algorithm = Literal["ddpg", "td3", "sac"]


class SarlGlobalParams(HyperParams):
    """Extra ``sarl-global``: one Stable-Baselines3 agent deciding for every vehicle from the global state."""

    episodes: Episodes = Field(default=SARL.episodes, description="training episodes, as SARL's")
    algo: Algorithm = Field(default="ddpg", description="the SB3 algorithm (DDPG as the paper's learners)")
    hidden: Hidden = Field(default=SARL.hidden, description="SARL's widths, ReLU throughout")
    learning_rate: LearningRate = Field(default=1e-3, description="one rate for actor and critic, SB3's default")
    gamma: Gamma = Field(default=SARL.gamma, description="discount factor, Table I")
    tau: Tau = Field(default=SARL.tau, description="soft update rate lambda, Table I")
    batch_size: BatchSize = Field(default=SARL.batch_size, description="replay minibatch")
    noise: Noise = Field(default=0.1, description="action noise std (DDPG, TD3), as SB3's examples")
    warmup_batches: int = Field(
        default=SARL.warmup_batches,
        ge=0,
        le=10_000,
        description="uniform-random slots before learning, in batches (at most a fifth of the budget)",
    )


SARL_GLOBAL = SarlGlobalParams()
