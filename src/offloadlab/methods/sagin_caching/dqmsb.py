"""DQMSB (Algorithm 2): a Stable-Baselines3 DQN learns the price-scaling level of MSB on the
auctioneer environment; the trained Q-network then prices each bidder from its competitors' bids."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.env import AuctioneerEnv, features
from offloadlab.scenarios.sagin_caching.market import MarketStats


def _progress_callback(total_steps: int, rounds: int, show: bool):
    """SB3 callback recording each training episode's total surplus and printing progress to stderr."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def __init__(self):
            super().__init__()
            self.curve: list[float] = []
            self._running = 0.0
            self._next_report = 0.1

        def _on_step(self) -> bool:
            info = self.locals["infos"][0]
            self._running += info["surplus"]
            if self.locals["dones"][0]:
                self.curve.append(self._running)
                self._running = 0.0
            done = self.num_timesteps / total_steps
            if show and done >= self._next_report:
                last = np.mean(self.curve[-10:]) if self.curve else float("nan")
                print(f"dqmsb: {done:4.0%} ({self.num_timesteps}/{total_steps} steps, {len(self.curve)} episodes "
                      f"of {rounds} rounds), surplus per episode (last 10): {last:.4g}", file=sys.stderr, flush=True)
                self._next_report += 0.1
            return True

    return Progress()


def checkpoint_path(path: str) -> Path:
    """SB3 stores models as .zip; accept the path with or without the suffix."""
    p = Path(path)
    return p if p.suffix == ".zip" else p.with_name(p.name + ".zip")


def train(values: np.ndarray, stats: MarketStats, levels: int, timesteps: int, seed: int, *, gamma: float = 0.0,
          learning_rate: float = 1e-3, progress: bool = True, checkpoint: str | None = None):
    """Train (or load from ``checkpoint`` if it exists, saving there after training) a DQN auctioneer.

    Returns (model, training curve of total surplus per episode; empty when loaded).
    """
    import torch
    from stable_baselines3 import DQN

    torch.set_num_threads(1)  # small MLP: one thread is as fast and leaves the other cores alone
    env = AuctioneerEnv(values, stats.x0, stats.scale, levels)
    path = checkpoint_path(checkpoint) if checkpoint else None
    if path is not None and path.exists():
        model = DQN.load(path, device="cpu")
        if model.observation_space.shape != env.observation_space.shape or model.action_space.n != levels:
            raise InputError("checkpoint", f"'{path}' was trained for another market (observation "
                                           f"{model.observation_space.shape}, {model.action_space.n} actions)")
        return model, []
    rounds = values.shape[1]
    model = DQN("MlpPolicy", env, learning_rate=learning_rate, buffer_size=min(50_000, timesteps),
                learning_starts=min(1000, timesteps // 10), batch_size=64, gamma=gamma, train_freq=4,
                target_update_interval=500, exploration_fraction=0.3, exploration_final_eps=0.02,
                policy_kwargs={"net_arch": [64, 64]}, seed=seed, device="cpu")
    callback = _progress_callback(timesteps, rounds, progress)
    model.learn(total_timesteps=timesteps, callback=callback)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model, callback.curve


def rho_rule(model, stats: MarketStats, levels: int) -> auction.RhoRule:
    """The trained auctioneer as a rho rule of (x_{-n}, x0): greedy action of the Q-network."""

    def rule(rest: np.ndarray, x0: np.ndarray) -> np.ndarray:
        action, _ = model.predict(features(rest, x0, stats.scale), deterministic=True)
        return auction.rho_level(action, levels)

    return rule
