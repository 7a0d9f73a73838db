"""The learners' schedules: exploration noise and learning rates reach their floors, the actors wait for
``policy_delay`` critic updates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.methods.dt_vehicular.hyper import MaddpgParams, SarlParams
from offloadlab.methods.dt_vehicular.learners import NOISE_FLOOR, ActorCritics, ReplayBuffer, exploration_std

N, OBS, ACT = 2, 5, 4


@settings(deadline=None)  # wall time says nothing on a loaded machine
@given(st.floats(0.05, 1.0), st.integers(10, 10_000))
def test_exploration_noise_reaches_its_floor_at_the_decay_share_and_stays(share, steps):
    hp = MaddpgParams(noise=0.3, noise_decay=share)
    assert exploration_std(hp, 0, steps) == pytest.approx(0.3)
    at = int(np.ceil(share * steps * (1 - NOISE_FLOOR)))  # the linear fall meets the floor here
    floor = 0.3 * NOISE_FLOOR
    assert exploration_std(hp, at, steps) == pytest.approx(floor)
    assert exploration_std(hp, steps, steps) == pytest.approx(floor)
    before = [exploration_std(hp, d, steps) for d in range(0, at, max(1, at // 50))]
    assert all(a >= b for a, b in zip(before, before[1:]))  # never rises
    assert min(before) > floor or at <= 1


def test_the_default_noise_decays_over_the_whole_budget():
    hp = MaddpgParams(noise_decay=1.0)
    assert exploration_std(hp, 500, 1000) == pytest.approx(0.5 * hp.noise)


@pytest.mark.parametrize(("floor", "decay"), [(1.0, 1.0), (0.1, 1.0), (0.05, 0.5)])
def test_learning_rates_fall_linearly_to_their_floor_and_stay(floor, decay):
    hp = SarlParams(hidden=[8, 8, 8], lr_floor=floor, lr_decay=decay)
    agents = ActorCritics(N, OBS, ACT, hp)

    def rates(progress: float) -> tuple[float, float]:
        agents.anneal(progress)
        return agents.actor_opt.param_groups[0]["lr"], agents.critic_opt.param_groups[0]["lr"]

    assert rates(0.0) == pytest.approx((hp.lr_actor, hp.lr_critic))
    half = (1 + floor) / 2  # halfway through the decay
    assert rates(decay / 2) == pytest.approx((hp.lr_actor * half, hp.lr_critic * half))
    at_floor = (hp.lr_actor * floor, hp.lr_critic * floor)
    assert rates(decay) == pytest.approx(at_floor)
    assert rates((1 + decay) / 2) == pytest.approx(at_floor)  # after the decay: stays at the floor
    assert rates(2.0) == pytest.approx(at_floor)


def _weights(stack) -> list[torch.Tensor]:
    return [p.detach().clone() for p in stack.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_actors_and_targets_move_every_policy_delay_critic_updates():
    torch.manual_seed(0)
    agents = ActorCritics(N, OBS, ACT, MaddpgParams(hidden=[8, 8, 8], policy_delay=2))
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(32, N, OBS, ACT)
    for _ in range(32):
        obs, nxt = rng.normal(size=(2, N, OBS)).astype(np.float32)
        buffer.add(obs, rng.uniform(size=(N, ACT)).astype(np.float32), float(rng.normal()), nxt)
    nets = (agents.actors, agents.critics, agents.target_actors, agents.target_critics)
    start = [_weights(n) for n in nets]
    agents.update(*buffer.sample(rng, 16))
    once = [_weights(n) for n in nets]
    assert not _same(once[1], start[1])  # the critics step every update
    assert all(_same(once[i], start[i]) for i in (0, 2, 3))  # actors and targets wait
    agents.update(*buffer.sample(rng, 16))
    twice = [_weights(n) for n in nets]
    assert not any(_same(twice[i], once[i]) for i in range(4))  # the second update moves all four
