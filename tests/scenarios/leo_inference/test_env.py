"""Environment checkers and consistency with the evaluation."""

from __future__ import annotations

import numpy as np
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from offloadlab.scenarios.leo_inference.env import LeoInferenceEnv, LeoInferenceParallelEnv
from offloadlab.scenarios.leo_inference.problem import PROBLEM, model_of


def test_gymnasium_checker(small_json):
    check_env(LeoInferenceEnv(small_json), skip_render_check=True)


def test_pettingzoo_parallel_api(small_json):
    parallel_api_test(LeoInferenceParallelEnv(small_json), num_cycles=50)


def test_gym_episode_is_a_feasible_decision(small_json):
    inst = PROBLEM.load_instance(small_json)
    env = LeoInferenceEnv(inst)
    obs, _ = env.reset(seed=0)
    total, done = 0.0, False
    rng = np.random.default_rng(0)
    while not done:
        obs, r, done, _, _ = env.step(int(rng.integers(0, env.action_space.n)))
        total += r
    ev = PROBLEM.evaluate(inst, model_of(inst).decision_from_targets(env.target))
    assert ev.feasible[0], ev.violations[0]  # the env only places tasks where there is room
    assert ev.details["offload_fraction"][0] > 0


def test_parallel_all_offload_episode_is_feasible(small_json):
    inst = PROBLEM.load_instance(small_json)
    env = LeoInferenceParallelEnv(inst)
    env.reset()
    while env.agents:
        env.step({a: 1 for a in env.agents})
    ev = PROBLEM.evaluate(inst, model_of(inst).decision_from_targets(env.target))
    assert ev.feasible[0]
