"""The satellite-mec Gymnasium env: API conformance, decoding, rewards worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from offloadlab.core.errors import InputError
from offloadlab.scenarios.satellite_mec.env import SatMecEnv
from offloadlab.scenarios.satellite_mec.problem import PROBLEM


@pytest.fixture
def env(small_instance):
    return SatMecEnv(small_instance, horizon=4)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("size", [(3, 10, 4), (2, 3, 2)])
def test_env_checker_passes(size):
    M, N, I = size
    check_env(SatMecEnv(PROBLEM.make_instance(3, M=M, N=N, I=I)), skip_render_check=True)


def test_spaces_follow_the_decision_space(env, small_instance):
    p = small_instance.params
    assert env.action_space.shape == (p.M * p.N + p.N * p.I,)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_lowest_action_is_all_local_with_zero_reward(env, small_instance):
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(-np.ones(env.action_space.shape, dtype=np.float32))
    d = env.best_decision
    assert not d["offload"].any() and not d["power_w"].any()
    assert info["feasible"] and info["objective"] == pytest.approx(small_instance.local_latency_s.mean())
    assert reward == pytest.approx(0.0, abs=1e-12)
    assert not terminated and not truncated


def test_reward_is_latency_saving_of_the_repaired_decision(env, small_instance):
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(4):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        decision = env.decision(action)
        ev = PROBLEM.evaluate(small_instance, {k: v[None] for k, v in decision.items()})
        lat = ev.details["latency_s"][0]
        _, reward, _, _, info = env.step(action)
        assert info["feasible"] == bool(ev.feasible[0])
        expected = (small_instance.local_latency_s.mean() - env.score(lat)) / small_instance.params.deadline_s
        assert reward == pytest.approx(expected)
        if info["feasible"]:
            assert reward == pytest.approx(small_instance.local_latency_s.mean() - lat.mean())
    assert env.evaluations == 4


def test_penalised_score_by_hand(env):
    # deadline 1 s: latencies 0.5 and 1.5 -> mean 1.0, mean excess 0.25 -> 1.0 + 10 * 0.25
    assert env.score(np.array([0.5, 1.5])) == pytest.approx(3.5)
    # an unfinished upload (inf) is capped at 10 deadlines: mean 5.25, excess 4.5 -> 50.25
    assert env.score(np.array([0.5, np.inf])) == pytest.approx(5.25 + 10 * 4.5)


def test_episode_truncates_at_horizon(env):
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[3] for _ in range(4)]
    assert flags == [False, False, False, True]


def test_best_decision_prefers_feasible(env):
    env.reset(seed=0)
    env.step(-np.ones(env.action_space.shape, dtype=np.float32))  # all-local, feasible
    local = env.best_objective
    env.step(np.ones(env.action_space.shape, dtype=np.float32))  # everyone on satellite 0, all channels
    assert env.best_objective == local and not env.best_decision["offload"].any()


def test_bad_horizon_is_an_input_error(small_instance):
    with pytest.raises(InputError, match="horizon"):
        SatMecEnv(small_instance, horizon=0)
