"""DQMSB (Algorithm 2): a Stable-Baselines3 DQN learns the price-scaling level of MSB on the
auctioneer environment; the trained Q-network then prices each bidder from its competitors' bids."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.rl.common import checkpoint_file, load_checkpoint, sb3_callback, torch_threads
from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.env import AuctioneerEnv, features
from offloadlab.scenarios.sagin_caching.market import MarketStats


class SurplusCurve:
    """Records each training episode's total surplus and prints progress to stderr every 10 %."""

    def __init__(self, total_steps: int, rounds: int, show: bool):
        self.total_steps, self.rounds, self.show = total_steps, rounds, show
        self.curve: list[float] = []
        self._running = 0.0
        self._next_report = 0.1

    def on_step(self, timesteps: int, step: Mapping[str, Any]) -> None:
        """Account one env step (SB3's locals of the step)."""
        self._running += step["infos"][0]["surplus"]
        if step["dones"][0]:
            self.curve.append(self._running)
            self._running = 0.0
        done = timesteps / self.total_steps
        if self.show and done >= self._next_report:
            last = np.mean(self.curve[-10:]) if self.curve else float("nan")
            print(
                f"dqmsb: {done:4.0%} ({timesteps}/{self.total_steps} steps, {len(self.curve)} episodes "
                f"of {self.rounds} rounds), surplus per episode (last 10): {last:.4g}",
                file=sys.stderr,
                flush=True,
            )
            self._next_report += 0.1


def train(
    values: np.ndarray,
    stats: MarketStats,
    levels: int,
    timesteps: int,
    seed: int,
    *,
    gamma: float = 0.0,
    learning_rate: float = 1e-3,
    progress: bool = True,
    checkpoint: str | None = None,
):
    """Train (or load from ``checkpoint`` if it exists, saving there after training) a DQN auctioneer.

    Returns (model, training curve of total surplus per episode; empty when loaded).
    """
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
        return model, []
    rounds = values.shape[1]
    curve = SurplusCurve(timesteps, rounds, progress)
    with torch_threads(1):  # small MLP: one thread is as fast and leaves the other cores alone
        model = DQN(
            "MlpPolicy",
            env,
            learning_rate=learning_rate,
            buffer_size=min(50_000, timesteps),
            learning_starts=min(1000, timesteps // 10),
            batch_size=64,
            gamma=gamma,
            train_freq=4,
            target_update_interval=500,
            exploration_fraction=0.3,
            exploration_final_eps=0.02,
            policy_kwargs={"net_arch": [64, 64]},
            seed=seed,
            device="cpu",
        )
        model.learn(total_timesteps=timesteps, callback=sb3_callback(curve.on_step))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model, curve.curve


def rho_rule(model, stats: MarketStats, levels: int) -> auction.RhoRule:
    """The trained auctioneer as a rho rule of (x_{-n}, x0): greedy action of the Q-network."""

    def rule(rest: np.ndarray, x0: np.ndarray) -> np.ndarray:
        action, _ = model.predict(features(rest, x0), deterministic=True)
        return auction.rho_level(action, levels)

    return rule
