"""The DQMSB auctioneer environment passes Gymnasium's checker and replays MSB rounds."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.env import AuctioneerEnv


def _values(seed=0, episodes=3, rounds=5, n=4):
    return np.random.default_rng(seed).uniform(0.1, 2.0, size=(episodes, rounds, n + 1))


def test_env_checker():
    check_env(AuctioneerEnv(_values(), x0=1.0, scale=1.0, levels=10), skip_render_check=True)


def test_step_reward_is_msb_surplus():
    v = _values()
    env = AuctioneerEnv(v, x0=1.0, scale=2.0, levels=10)
    obs, _ = env.reset(seed=3)
    ep = env._episode
    bs = v[ep, 0, 1:]
    rest = np.sort(bs)[::-1][1:]
    expect_obs = np.append(rest, 1.0) / max(rest[0], 1.0)  # competitors of the top BS, then x0, over the largest
    assert obs == pytest.approx(expect_obs.astype(np.float32))
    _, reward, terminated, truncated, info = env.step(5)
    out = auction.msb(bs[None], np.array([1.0]), 10**0.5)
    assert reward == pytest.approx(auction.surplus(v[ep, :1], out)["total"][0] / 2.0)
    assert info["rho"] == pytest.approx(10**0.5)
    assert not terminated and not truncated
    for _ in range(4):
        *_, terminated, _, _ = env.step(0)
    assert terminated


def test_reset_is_seeded():
    env = AuctioneerEnv(_values(episodes=50), x0=1.0, scale=1.0, levels=10)
    a = [env.reset(seed=s)[0] for s in range(5)]
    b = [env.reset(seed=s)[0] for s in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
