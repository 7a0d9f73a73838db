"""DQMSB (Algorithm 2): a Stable-Baselines3 DQN learns the price-scaling level of MSB on the
auctioneer environment; the trained Q-network then prices each bidder from its competitors' bids."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.rl.common import (
    BatchSize,
    Gamma,
    Hidden,
    HyperParams,
    LearningRate,
    checkpoint_file,
    load_checkpoint,
    sb3_callback,
    torch_threads,
)
from offloadlab.rl.record import Sb3Recorder, TrainingRecord, loaded
from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.env import AuctioneerEnv, features
from offloadlab.scenarios.sagin_caching.market import MarketStats

MAX_STEPS = 10_000_000
Timesteps = Annotated[int, Field(ge=1, le=MAX_STEPS, description="DQN training steps (``budget`` replaces it)")]
Share = Annotated[float, Field(ge=0, le=1)]
Steps = Annotated[int, Field(ge=1, le=MAX_STEPS)]


class DqmsbParams(HyperParams):
    """The DQN auctioneer of Algorithm 2; the paper gives no DQN settings, so these are chosen here."""

    timesteps: Timesteps = Field(default=20_000, description="training steps (auction rounds), as the Fig. 5 runs")
    gamma: Gamma = Field(default=0.0, description="0: a round's surplus does not depend on the next round's action")
    learning_rate: LearningRate = Field(
        default=1e-3, description="Adam learning rate, as the Fig. 5 runs (ten times SB3's DQN default)"
    )
    hidden: Hidden = Field(default=(64, 64), description="Q-network hidden widths (SB3's default)")
    batch_size: BatchSize = Field(default=64, description="replay minibatch")
    buffer_size: Steps = Field(default=50_000, description="replay capacity, capped at the training steps")
    learning_starts: Steps = Field(default=1000, description="random steps before learning, at most a tenth of all")
    train_freq: Steps = Field(default=4, description="env steps per gradient step (SB3's default)")
    target_update_interval: Steps = Field(default=500, description="env steps between target-network copies")
    exploration_fraction: Share = Field(default=0.3, description="share of training over which epsilon falls")
    exploration_final_eps: Share = Field(default=0.02, description="final epsilon of the epsilon-greedy policy")


DQMSB = DqmsbParams()


class SurplusProgress:
    """Prints training progress (total surplus per episode) to stderr every 10 %."""

    def __init__(self, record: TrainingRecord, total_steps: int, rounds: int):
        self.record, self.total_steps, self.rounds = record, total_steps, rounds
        self._next_report = 0.1

    def on_step(self, timesteps: int, step: Mapping[str, Any]) -> None:
        """Report when another tenth of the steps is done."""
        done = timesteps / self.total_steps
        if done >= self._next_report:
            returns = self.record.episode_returns
            last = np.mean(returns[-10:]) if returns else float("nan")
            print(
                f"dqmsb: {done:4.0%} ({timesteps}/{self.total_steps} steps, {len(returns)} episodes "
                f"of {self.rounds} rounds), surplus per episode (last 10): {last:.4g}",
                file=sys.stderr,
                flush=True,
            )
            self._next_report += 0.1


def train(
    values: np.ndarray,
    stats: MarketStats,
    levels: int,
    hp: DqmsbParams,
    seed: int,
    *,
    progress: bool = True,
    checkpoint: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train (or load from ``checkpoint`` if it exists, saving there after training) a DQN auctioneer for
    ``hp.timesteps`` steps. Returns (model, the run's stats: its training record, whose episode returns
    are the total surplus per training episode)."""
    from stable_baselines3 import DQN

    env = AuctioneerEnv(values, stats.x0, stats.scale, levels)
    path = checkpoint_file(checkpoint, {}, ".zip")
    if path is not None and path.exists():
        what = f"a dqmsb checkpoint (a Stable-Baselines3 DQN zip) for {levels} action levels"
        model = load_checkpoint(path, what, lambda file: DQN.load(file, device="cpu"))
        actions = getattr(model.action_space, "n", None)
        if model.observation_space.shape != env.observation_space.shape or actions != levels:
            raise InputError(
                f"checkpoint {path}",
                f"was trained for another market (observation {model.observation_space.shape}, {actions} actions; "
                f"expected {what})",
            )
        return model, loaded(str(path))
    steps = hp.timesteps
    record = TrainingRecord()
    recorder = Sb3Recorder(record, "train/loss", info_reward="surplus")  # returns in surplus, not scaled
    shown = SurplusProgress(record, steps, values.shape[1])

    def on_step(timesteps: int, step: Mapping[str, Any]) -> None:
        recorder.on_step(timesteps, step)
        if progress:
            shown.on_step(timesteps, step)

    with torch_threads(1):  # small MLP: one thread is as fast and leaves the other cores alone
        model = DQN(
            "MlpPolicy",
            env,
            learning_rate=hp.learning_rate,
            buffer_size=min(hp.buffer_size, steps),
            learning_starts=min(hp.learning_starts, steps // 10),
            batch_size=hp.batch_size,
            gamma=hp.gamma,
            train_freq=hp.train_freq,
            target_update_interval=hp.target_update_interval,
            exploration_fraction=hp.exploration_fraction,
            exploration_final_eps=hp.exploration_final_eps,
            policy_kwargs={"net_arch": list(hp.hidden)},
            seed=seed,
            device="cpu",
        )
        model.learn(total_timesteps=steps, callback=sb3_callback(on_step, recorder.close))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model, record.stats()


def rho_rule(model, stats: MarketStats, levels: int) -> auction.RhoRule:
    """The trained auctioneer as a rho rule of (x_{-n}, x0): greedy action of the Q-network."""

    def rule(rest: np.ndarray, x0: np.ndarray) -> np.ndarray:
        action, _ = model.predict(features(rest, x0), deterministic=True)
        return auction.rho_level(action, levels)

    return rule
