"""The envs pass their libraries' API checkers and step the same model as the solvers."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from offloadlab.scenarios.dt_vehicular.env import DtVehicularEnv, DtVehicularParallelEnv
from offloadlab.scenarios.dt_vehicular.model import generate_episode, make_params, run_policy


@pytest.fixture
def params():
    return make_params("default", N=3, K=2, slots=8)


def test_gymnasium_env_checker(params):
    check_env(DtVehicularEnv(params), skip_render_check=True)


def test_pettingzoo_parallel_api(params):
    parallel_api_test(DtVehicularParallelEnv(params), num_cycles=20)


def test_env_rewards_are_the_model_p2(params):
    ep = generate_episode(params, 5)
    env = DtVehicularEnv(params, episode=ep, reward_clip=1e9)  # unclipped: compare with the model
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    # offloaded work with little CPU: the queues fill, so the last reward carries the terminal cost
    scale = np.repeat([[1.0] * params.K + [0.02] * params.K], params.N, axis=0).ravel()
    actions = [rng.uniform(size=env.action_space.shape) * scale for _ in range(params.slots)]
    rewards = [env.step(a)[1] for a in actions]
    it = iter(actions)

    def replay(state):
        a = next(it).reshape(params.N, 2 * params.K)
        return a[:, : params.K], a[:, params.K :]

    sim = run_policy(ep, replay)
    p2 = sim.log.series()["p2"][:, 0]
    terminal = sim.summary()["terminal_cost"][0]
    assert terminal > 0
    assert np.allclose(rewards[:-1], -p2[:-1]) and rewards[-1] == pytest.approx(-p2[-1] - terminal)
    # the episode's rewards sum to -T times the objective, terminal cost included
    assert sum(rewards) == pytest.approx(-params.slots * sim.summary()["p2"][0])


def test_parallel_env_is_seeded_and_truncates(params):
    env = DtVehicularParallelEnv(params)
    first = env.reset(seed=3)[0]["vehicle_0"]
    assert np.array_equal(first, env.reset(seed=3)[0]["vehicle_0"])
    for _ in range(params.slots):
        _, rew, term, trunc, _ = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert all(trunc.values()) and not any(term.values()) and env.agents == []
    assert len(set(rew.values())) == 1  # shared reward
