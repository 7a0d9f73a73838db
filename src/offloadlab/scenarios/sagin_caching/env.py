"""Gymnasium environment of the DQMSB auctioneer (Section V-B): each step is one MSB round.

State: the bids that price the round's top BS, i.e. its competitors' bids x_{-n} (sorted, descending)
and the satellite's contract price x0, divided by the largest of them. The state is scale-free, so scaling
every bid and x0 by c > 0 leaves rho, hence the allocation, unchanged: the adverse-selection-freeness of
Theorem 2 (a fixed divisor would make rho depend on the bid level). Keeping the top bid itself out of the
state is what keeps the learned mechanism strategy-proof (Theorem 2: rho may depend on x_{-n} only).
Action a in {0, ..., |A| - 1} sets rho = 10^(a / |A|); the reward is the round's total surplus (eq. 30a)
divided by the mean valuation of the training episodes (a constant: it only sets the learning scale).
Bids are truthful (MSB is strategy-proof) and do not depend on rho, so the
episode's rounds are replayed from precomputed valuations [E, K, N + 1] (E episodes of K rounds).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.caching import Policy, Relay
from offloadlab.scenarios.sagin_caching.episode import load_instance, make_instance
from offloadlab.scenarios.sagin_caching.market import market_stats, training_values

OBS_MAX = 1.0  # every feature is divided by the largest one


def features(rest: np.ndarray, x0: np.ndarray | float) -> np.ndarray:
    """Observation of a bidder facing competing BS bids ``rest`` [B, N - 1] and contract price x0 [B]: [B, N],
    divided by the row's largest entry (all zeros when every bid is 0), hence homogeneous of degree 0."""
    x0s = np.broadcast_to(np.asarray(x0, dtype=float), rest.shape[:1])
    x = np.concatenate([rest, x0s[:, None]], axis=1)
    top = x.max(axis=1, keepdims=True)
    return np.clip(x / np.where(top > 0, top, 1.0), 0.0, OBS_MAX).astype(np.float32)


class AuctioneerEnv(gym.Env):
    """Replays market rounds; the agent picks the price-scaling level of each round."""

    metadata = {"render_modes": []}

    def __init__(self, values: np.ndarray, x0: float, scale: float, levels: int):
        values = np.asarray(values, dtype=float)
        if values.ndim != 3 or values.shape[2] < 2:
            raise ValueError("values must be [episodes, rounds, N + 1] with N >= 1")
        self.values, self.x0, self.scale, self.levels = values, float(x0), float(scale), int(levels)
        n_bs = values.shape[2] - 1
        self.observation_space = spaces.Box(0.0, OBS_MAX, shape=(n_bs,), dtype=np.float32)
        self.action_space = spaces.Discrete(self.levels)
        self._episode = 0
        self._round = 0

    def _obs(self) -> np.ndarray:
        bs = self.values[self._episode, self._round, 1:]
        rest = auction.others(bs[None])[0, int(np.argmax(bs))]
        return features(rest[None], self.x0)[0]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a replayed episode drawn with the env's seeded generator."""
        super().reset(seed=seed)
        self._episode = int(self.np_random.integers(len(self.values)))
        self._round = 0
        return self._obs(), {}

    def step(self, action):
        """Run one MSB round with rho = 10^(a / |A|); reward = total surplus / scale."""
        v = self.values[self._episode, self._round]
        rho = float(auction.rho_level(int(action), self.levels))
        out = auction.msb(v[None, 1:], np.array([self.x0]), rho)
        total = float(auction.surplus(v[None], out)["total"][0])
        self._round += 1
        terminated = self._round >= self.values.shape[1]
        obs = np.zeros(self.observation_space.shape, np.float32) if terminated else self._obs()
        return obs, total / self.scale, terminated, False, {"surplus": total, "rho": rho}


def make_env(
    instance: Mapping[str, Any] | None = None,
    seed: int = 0,
    preset: str = "default",
    policy: Policy = "laot",
    relay: Relay = "ground",
    **overrides: Any,
) -> AuctioneerEnv:
    """The auctioneer env (Algorithm 2) over the market-training episodes of an instance, or of one generated
    from a preset, overrides and a seed."""
    episode = load_instance(instance if instance is not None else make_instance(seed, preset, **overrides))
    stats = market_stats(episode, policy, relay)
    values = training_values(episode.params, episode.seed, policy, relay)
    return AuctioneerEnv(values, stats.x0, stats.scale, episode.params.action_levels)
