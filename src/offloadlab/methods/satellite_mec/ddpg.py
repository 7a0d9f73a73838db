"""DDPG (Stable-Baselines3) on the satellite-mec Gymnasium env, as the paper's DRL baseline.

Paper settings (seed 000, Sec. IV) are the defaults: actor and critic with three layers (read as three
fully connected layers, i.e. two hidden layers, of width 64 each: the paper gives no widths
 and this keeps a policy update at a few milliseconds on a CPU), learning rate
1e-5, and "greedy exploration with rate 0.05", read as Gaussian action noise with standard
deviation 0.05 on the [-1, 1] action scale (DDPG's actions are continuous, so there is no discrete
greedy choice to take with probability 0.95). Left open by the paper and chosen here: discount 0
(the env's reward depends only on the proposed decision), episodes of 8 proposals, replay batch
128, 100 uniform-random warm-up steps.

The budget is environment steps, each one model evaluation. The result is the best feasible decision
proposed during training (the least penalised one if none was feasible), so the method is scored as
a search procedure, on the same axis as GA and random choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.resources import check_learner, mlp_parameters
from offloadlab.core.result import Result, Tracker
from offloadlab.rl.common import (
    BatchSize,
    Gamma,
    Hidden,
    HyperParams,
    LearningRate,
    Threads,
    load_checkpoint,
    sb3_callback,
    settings_of,
    torch_threads,
)
from offloadlab.rl.record import Sb3Recorder, TrainingRecord
from offloadlab.scenarios.satellite_mec.env import SatMecEnv
from offloadlab.scenarios.satellite_mec.model import SCENARIO_ID, SatMecInstance
from offloadlab.scenarios.satellite_mec.sparse_ops import dense_only
from offloadlab.solvers.common import finish

DEFAULT_BUDGET = 3000
RECORD_EVERY = 50  # history points: every improvement and at least every this many steps

NoiseSigma = Annotated[float, Field(ge=0, le=10, description="std of the Gaussian action noise on [-1, 1] actions")]
Horizon = Annotated[int, Field(ge=1, le=100_000, description="proposals per episode")]
Warmup = Annotated[int, Field(ge=0, le=10_000_000, description="uniform-random steps before learning")]
Checkpoint = Annotated[str, Field(min_length=1, max_length=4096, description="load PATH if it exists, else save")]


class DdpgParams(HyperParams):
    """The paper's DRL baseline (Sec. IV), with what it leaves open chosen here."""

    learning_rate: LearningRate = Field(default=1e-5, description="the paper's learning rate")
    noise_sigma: NoiseSigma = Field(
        default=0.05,
        description="the paper's 'greedy exploration with rate 0.05' read as Gaussian action noise (DDPG's "
        "actions are continuous: there is no discrete greedy choice to take with probability 0.95)",
    )
    hidden: Hidden = Field(
        default=(64, 64),
        description="'three layers' read as three fully connected layers, two hidden; the paper gives no "
        "widths, 64 keeps a policy update at a few milliseconds on a CPU",
    )
    gamma: Gamma = Field(default=0.0, description="0: the reward depends only on the proposed decision")
    horizon: Horizon = Field(default=8, description="proposals per episode (open in the paper)")
    batch_size: BatchSize = Field(default=128, description="replay minibatch (open in the paper)")
    learning_starts: Warmup = Field(default=100, description="uniform-random warm-up steps (open in the paper)")
    threads: Threads = Field(default=1, description="torch threads: one is as fast for these small MLPs")


DDPG = DdpgParams()


@register_solver(
    "ddpg",
    SCENARIO_ID,
    "DDPG (Stable-Baselines3; 3-layer actor/critic, lr 1e-5, Gaussian exploration 0.05)",
    budget_unit="env_steps",
    smoke=Smoke(budget=200),
)
def solve_ddpg(
    problem: Any,
    instance: SatMecInstance,
    budget: int | None,
    rng: np.random.Generator,
    learning_rate: LearningRate = DDPG.learning_rate,
    noise_sigma: NoiseSigma = DDPG.noise_sigma,
    hidden: Hidden = DDPG.hidden,
    gamma: Gamma = DDPG.gamma,
    horizon: Horizon = DDPG.horizon,
    batch_size: BatchSize = DDPG.batch_size,
    learning_starts: Warmup = DDPG.learning_starts,
    checkpoint: Checkpoint | None = None,
    threads: Threads = DDPG.threads,
) -> Result:
    """Train DDPG for ``budget`` env steps (default 3000) and return the best decision it proposed."""
    hp = settings_of(DdpgParams, locals())
    dense_only(instance, "ddpg")
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    env = SatMecEnv(instance, horizon=hp.horizon)
    tracker = Tracker(budget)
    dim = int(np.prod(env.action_space.shape or (1,)))
    obs = int(np.prod(env.observation_space.shape or (1,)))
    # actor and critic (SB3's net_arch for both), a minibatch through each, a replay buffer of ``budget``
    # transitions (observation, next observation, action, reward, done): all refused before SB3 allocates
    nets = mlp_parameters(obs, hp.hidden, dim) + mlp_parameters(obs + dim, hp.hidden, 1)
    check_learner(
        "options hidden, batch_size, budget",
        nets,
        2 * hp.batch_size * (obs + dim + sum(hp.hidden)),
        budget * (2 * obs + dim + 2),
    )
    seed = int(rng.integers(2**31 - 1))
    with torch_threads(hp.threads):
        ckpt = Path(checkpoint) if checkpoint else None
        resumed = ckpt is not None and ckpt.exists()
        model = _load(ckpt, env, seed) if ckpt is not None and resumed else _new(hp, env, budget, seed)
        model.action_noise = _noise(dim, hp.noise_sigma)
        record = TrainingRecord()
        steps = Sb3Recorder(record, "train/critic_loss", updates_before=int(model._n_updates))
        recorder = EvaluationRecorder(env, tracker)

        def on_step(timesteps: int, step: Any) -> None:
            steps.on_step(timesteps, step)
            recorder.on_step(timesteps, step)

        def on_end() -> None:
            steps.close()
            recorder.flush()

        model.learn(total_timesteps=budget, callback=sb3_callback(on_step, on_end), reset_num_timesteps=not resumed)
        if ckpt is not None:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            model.save(ckpt)
    assert env.best_decision is not None  # every env step proposes a decision
    return finish(problem, instance, env.best_decision, tracker, **record.stats())


def _noise(dim: int, sigma: float) -> Any:
    from stable_baselines3.common.noise import NormalActionNoise

    return NormalActionNoise(mean=np.zeros(dim), sigma=sigma * np.ones(dim))


def _new(hp: DdpgParams, env: SatMecEnv, budget: int, seed: int) -> Any:
    """A fresh DDPG agent with the settings ``hp``."""
    from stable_baselines3 import DDPG as Sb3Ddpg

    return Sb3Ddpg(
        "MlpPolicy",
        env,
        learning_rate=hp.learning_rate,
        buffer_size=max(budget, 1),
        learning_starts=hp.learning_starts,
        batch_size=hp.batch_size,
        gamma=hp.gamma,
        policy_kwargs={"net_arch": list(hp.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )


def _load(path: Path, env: SatMecEnv, seed: int) -> Any:
    """Reload a saved policy onto this instance's env; InputError naming the file if it does not fit."""
    from stable_baselines3 import DDPG as Sb3Ddpg

    p = env.instance.params
    what = f"a satellite-mec ddpg checkpoint (a Stable-Baselines3 zip) for M={p.M}, N={p.N}, I={p.I}"
    return load_checkpoint(path, what, lambda file: Sb3Ddpg.load(file, env=env, device="cpu", seed=seed))


class EvaluationRecorder:
    """Turns env steps into Tracker history points: one whenever the best improves, else every
    ``RECORD_EVERY`` steps."""

    def __init__(self, env: SatMecEnv, tracker: Tracker):
        self.env, self.tracker = env, tracker
        self.pending = 0
        self.recorded_best = np.inf

    def on_step(self, timesteps: int, step: Any) -> None:
        """Account one env step."""
        self.pending += 1
        if self.env.best_objective < self.recorded_best or self.pending >= RECORD_EVERY:
            self.recorded_best = self.env.best_objective
            self.flush()

    def flush(self) -> None:
        """Record the steps not yet recorded."""
        if self.pending:
            self.tracker.record(self.pending, self.env.best_objective)
            self.pending = 0
