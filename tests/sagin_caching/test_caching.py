"""Eviction orders of Least-AoT, FIFO and LFU, and the context-window refresh of Algorithm 1."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.scenarios.sagin_caching.caching import simulate, violations
from offloadlab.scenarios.sagin_caching.episode import generate_episode
from offloadlab.scenarios.sagin_caching.params import preset_params
from tests.sagin_caching.helpers import tiny_episode

# Memory for two models. t0: service 0 (3 requests); t1: service 1 (1 request); t2: service 2 needs room.
# At t2: kappa = (1.8, 0.4), loaded at (0, 1), requests so far (3, 1).
REQ = [[[3, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]]


@pytest.mark.parametrize("policy, evicted", [("laot", 1), ("fifo", 0), ("lfu", 1)])
def test_eviction_order(policy, evicted):
    traj = simulate(tiny_episode(REQ, memory_models=2), policy)
    assert traj.cached[1, 0] == pytest.approx([1, 1, 0])
    expect = np.ones(3)
    expect[evicted] = 0
    assert traj.cached[2, 0] == pytest.approx(expect)
    assert traj.evictions == 1


def test_context_window_overflow_refreshes_model():
    # LLaMA-type model, 2048-token window: 11 requests x 200 tokens overflow, so the model is evicted
    # and the requests go to the cloud (Algorithm 1, lines 29-31).
    # (accuracy weighted 0.01, so that the edge is cheaper than the cloud (28a) for every slot here)
    ep = tiny_episode([[[5]], [[11]], [[1]]], model_of=[0], accuracy_weight=0.01)
    traj = simulate(ep, "laot")
    assert traj.cached[:, 0, 0] == pytest.approx([1, 0, 1])
    assert traj.edge[:, 0, 0] == pytest.approx([1, 0, 1])
    assert traj.refreshes == 1
    assert traj.K[:, 0, 0] == pytest.approx([1000, 0, 200])


def test_generated_episodes_respect_constraints_and_seeds():
    p = preset_params("default", T=30, num_gpus=8)
    ep = generate_episode(p, 5)
    for policy in ("laot", "fifo", "lfu", "cloud"):
        assert violations(ep, simulate(ep, policy)) == []
    again = generate_episode(p, 5)
    assert np.array_equal(ep.requests, again.requests) and np.array_equal(ep.model_of, again.model_of)
    assert not np.array_equal(ep.requests, generate_episode(p, 6).requests)
    # lambda = users / 10 = 1
    assert ep.requests.mean() == pytest.approx(1.0, abs=0.1)
