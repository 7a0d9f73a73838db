"""SARL decides on local information (the paper's reading): each vehicle's learner sees its own s_n(t) only."""

from __future__ import annotations

import dataclasses

import numpy as np

from offloadlab.methods.dt_vehicular.hyper import SarlParams
from offloadlab.methods.dt_vehicular.learners import ActorCritics, actor_policy
from offloadlab.scenarios.dt_vehicular.env import DtVehicularParallelEnv, local_observation
from offloadlab.scenarios.dt_vehicular.model import Simulator, generate_episode, make_params, vehicle_features

P = make_params("default", N=3, K=2, slots=5)


def test_local_observation_shape_and_content():
    env = DtVehicularParallelEnv(P, observation="local")
    obs, _ = env.reset(seed=1)
    assert env.observation_space("vehicle_0").shape == (P.K + 3,)
    ep = env.sim.episode
    feats = vehicle_features(ep, 0)
    for n in range(P.N):  # own task sizes, position, speed and SNR: no backlogs, no other vehicle
        assert obs[f"vehicle_{n}"].shape == (P.K + 3,)
        assert np.allclose(obs[f"vehicle_{n}"], feats[n], atol=1e-6)
    assert np.allclose(obs["vehicle_0"][: P.K], ep.task_bytes[0, 0] / P.task_bytes_max, atol=1e-6)


def test_sarl_networks_are_local_and_a_vehicle_ignores_the_others():
    agents = ActorCritics(P.N, P.K + 3, 2 * P.K, SarlParams(hidden=[8, 8, 8]))
    assert not agents.centralised
    assert agents.critics.in_features == (P.K + 3) + 2 * P.K  # own observation and action only
    assert agents.actors.in_features == P.K + 3
    sim = Simulator(generate_episode(P, 2))
    sim.queue = np.array([5e4, 1e3])  # backlogs are not local information
    state = sim.state()
    other = dataclasses.replace(state, features=state.features.copy(), queue_features=state.queue_features * 0)
    other.features[1:] += 0.5  # every other vehicle changes
    policy = actor_policy(agents, P.K)
    (w0, a0), (w1, a1) = policy(state), policy(other)
    assert np.array_equal(w0[0], w1[0]) and np.array_equal(a0[0], a1[0])
    assert not np.array_equal(w0[1], w1[1])
    assert np.array_equal(local_observation(state)[0], local_observation(other)[0])
