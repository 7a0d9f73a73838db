"""Gymnasium and PettingZoo envs of mec-queues: API checkers, the fixed observation, rewards."""

from __future__ import annotations

import numpy as np
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

from offloadlab.scenarios.mec_queues.env import MecQueuesEnv, MecQueuesParallelEnv, tang_wong_obs
from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.sim import QueueSim

SMALL = make_params("comllm", devices=3, servers=2, slots=8, drain_slots=4)


def test_gymnasium_check_env():
    check_env(MecQueuesEnv(SMALL), skip_render_check=True)


def test_pettingzoo_parallel_api():
    parallel_api_test(MecQueuesParallelEnv(SMALL), num_cycles=30)


def test_episode_return_equals_tang_wong_cost():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(4, "comllm", devices=4, servers=3, slots=12))
    env = MecQueuesEnv(inst)
    env.reset(seed=0)
    acts = np.random.default_rng(1).integers(0, 4, (12, 4))
    total, done, t = 0.0, False, 0
    while not done:
        _, r, done, _, _ = env.step(acts[t] if t < 12 else np.zeros(4, dtype=int))
        total += r
        t += 1
    ev = PROBLEM.evaluate(inst, {"actions": acts})
    delay = np.nan_to_num(ev.details["delay_slots"][0])
    cost = np.where(ev.details["dropped"][0], 20.0, delay).sum()
    assert total == -cost


def test_observation_uses_fixed_uplink_tracker():
    # device 0 offloads 4.0 Mbit at slot 0 (uplink busy slots 0-2), then a task at slot 1:
    # W_tran = 2 - 1 + 1 = 2 slots, W_comp = 0 (fog_env.py would report the upload estimate as W_comp)
    p = make_params("tang-wong", devices=1, servers=1, slots=2)
    sim = QueueSim(p, np.array([[4.0], [3.0]]))
    sim.step(np.array([1]))
    obs, load = tang_wong_obs(sim)
    assert obs[0, :3].tolist() == [3.0, 0.0, 2.0] and load.shape == (10, 1)
    assert obs[0, 3] == 0.0  # the upload has not reached the server yet
