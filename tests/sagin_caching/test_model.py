"""AoT (eqs. 18-20), every cost term (eqs. 21-26), eq. (2) rates and eq. (1) coverage against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offloadlab.scenarios.sagin_caching import model
from offloadlab.scenarios.sagin_caching.caching import simulate, summarize
from tests.sagin_caching.helpers import tiny_episode

LN2 = math.log(2.0)


def test_aot_step_counts_examples_and_vanishes():
    # K: 100 + 2 requests x 200 tokens = 500; kappa: 1.5 + 400/200 - 0.6 = 2.9
    K, kappa = model.aot_step(
        np.array([100.0, 100.0]), np.array([1.5, 1.5]), np.array([1, 0]), np.array([400.0, 400.0]), 200.0, 0.6
    )
    assert K == pytest.approx([500.0, 0.0])  # the evicted model restarts from zero (eq. 18)
    assert kappa == pytest.approx([2.9, 0.0])


def test_aot_floors_at_zero_and_token_reading():
    _, kappa = model.aot_step(np.array([0.0]), np.array([0.3]), np.array([1]), np.array([0.0]), 200.0, 0.6)
    assert kappa == pytest.approx([0.0])  # {0.3 - 0.6}^+
    _, kappa = model.aot_step(np.array([0.0]), np.array([1.5]), np.array([1]), np.array([400.0]), 1.0, 0.6)
    assert kappa == pytest.approx([400.9])  # literal eq. (19) in tokens


def test_performance_and_unit_accuracy_cost():
    # eq. (20): 0.777 * 2.9 * ln 2 = 1.561869; eq. (24): (1 - 0.777) / (2.9 ln 2) = 0.110938
    assert model.performance(0.777, 0.5, 2.9) == pytest.approx(0.777 * 2.9 * LN2)
    assert model.performance(0.777, 0.5, 2.9) == pytest.approx(1.561869, abs=1e-6)
    assert model.unit_accuracy_cost(0.777, 0.5, 2.9) == pytest.approx(0.110938, abs=1e-6)
    assert np.isinf(model.unit_accuracy_cost(0.777, 0.5, 0.0))


def test_switching_cost_counts_loads_only():
    cost = model.switching_cost(np.array([1, 0, 1]), np.array([1, 1, 0]), 0.05)
    assert cost == pytest.approx([0.0, 0.05, 0.0])  # a load costs lambda; keeping or evicting costs nothing


def test_transmission_cost():
    # 3 requests, half to the cloud: 3 (1e-4 * 400 s + 5e-3 * 1.2 s * 0.5) = 0.129
    cost = model.transmission_cost(3.0, 0.5, 400.0, 1.2, 1e-4, 5e-3)
    assert cost == pytest.approx(0.129)


def test_computation_cost():
    # 3 requests * 0.5 at the edge * 200 tokens * 1.3e11 FLOP / (24 * 300 W * 810 GFLOP/s/W) = 0.0066872 s
    f = 24 * 300 * 810e9
    assert model.computation_cost(3.0, 0.5, 200.0, 1.3e11, f, 1.0) == pytest.approx(3.9e13 / 5.832e15)
    assert model.computation_cost(3.0, 0.5, 200.0, 1.3e11, f, 1.0) == pytest.approx(0.0066872, abs=1e-7)


def test_accuracy_cost():
    # 0.1 * 0.110938 * (3 * 0.5) = 0.0166407; nothing served -> 0 even at kappa = 0
    assert model.accuracy_cost(3.0, 0.5, 0.777, 0.5, 2.9, 0.1) == pytest.approx(0.0166407, abs=1e-7)
    assert model.accuracy_cost(3.0, 0.0, 0.777, 0.5, 0.0, 0.1) == 0.0


def test_cloud_cost():
    assert model.cloud_cost(3.0, 0.5, 0.04) == pytest.approx(0.06)
    assert model.cloud_cost(np.array([2.0, 2.0]), np.array([1.0, 0.0]), 0.025) == pytest.approx([0.0, 0.05])


def test_uplink_rate_single_user_and_interference():
    # 100 m: path loss 128.1 - 37.6 = 90.5 dB; noise -174 dBm/Hz over 20 MHz
    g = 10 ** (-9.05)
    noise = 10 ** ((-174 - 30) / 10) * 20e6
    alone = model.uplink_rates_bps(np.array([g]), 0.2, 20e6, -174.0)
    assert alone == pytest.approx([20e6 * math.log2(1 + 0.2 * g / noise)])
    assert alone[0] == pytest.approx(2.2259e8, rel=1e-3)
    pair = model.uplink_rates_bps(np.array([g, g / 4]), 0.2, 20e6, -174.0)
    assert pair[1] == pytest.approx(20e6 * math.log2(1 + 0.05 * g / (0.2 * g + noise)))
    assert model.user_gains(100.0, 1.0) == pytest.approx(g)


def test_coverage_time():
    # theta = arccos(6371/6921 cos 10 deg) - 10 deg = 0.26098 rad; 2 theta 6921 km / 7.6 km/s = 475.3 s
    theta = math.acos(6371 / 6921 * math.cos(math.radians(10))) - math.radians(10)
    t = model.coverage_time_s(5.5e5, 6.371e6, 7.6e3, 10.0)
    assert t == pytest.approx(2 * theta * 6.921e6 / 7.6e3)
    assert t == pytest.approx(475.8, abs=0.5)


def test_hand_worked_episode_with_least_aot():
    # One BS, one GPT3-type service; requests 1, 0, 2 over three slots. Accuracy weighted 0.01, so serving at
    # the edge is cheaper than the cloud (28a) even for a fresh model: 0.0062 + 0.01 x 0.804 < 0.0401.
    ep = tiny_episode([[[1]], [[0]], [[2]]], accuracy_weight=0.01)
    traj = simulate(ep, "laot")
    assert traj.cached[:, 0, 0] == pytest.approx([1, 1, 1])
    assert traj.K[:, 0, 0] == pytest.approx([200, 200, 600])  # eq. (18)
    assert traj.kappa[:, 0, 0] == pytest.approx([0.4, 0.0, 1.4])  # eq. (19): 1 - .6, {.4 - .6}^+, 0 + 2 - .6
    p = ep.params
    s = summarize(ep, traj, "ground")
    access = 1.2e9 / 3e6  # 400 s
    assert s["switching_cost"] == pytest.approx(p.switch_cost / 3)  # one load in three slots
    assert s["transmission_cost"] == pytest.approx(3 * 1e-4 * access / 3)  # all served at the edge
    assert s["cloud_cost"] == 0.0
    acc = p.accuracy_weight * ((1 - 0.777) / (0.4 * LN2) + 2 * (1 - 0.777) / (1.4 * LN2)) / 3
    assert s["accuracy_cost"] == pytest.approx(acc)
    comp = 3 * 200 * 3.48e11 / p.compute_flops / 3
    assert s["computation_cost"] == pytest.approx(comp)
    assert s["avg_total_cost"] == pytest.approx(sum(s[f"{k}_cost"] for k in model.COST_TERMS))
    assert s["per_bs_total_cost"] == pytest.approx([s["avg_total_cost"], 0.0])


def test_cloud_only_pays_cloud_and_backhaul():
    ep = tiny_episode([[[1]], [[0]], [[2]]])
    p = ep.params
    s = summarize(ep, simulate(ep, "cloud", "satellite"), "satellite")
    assert s["cloud_cost"] == pytest.approx(3 * p.cloud_access_cost_satellite / 3)
    # the satellite architecture: users -> satellite (1.2 GB at 10 Mb/s: 120 s, 1e-4 per s of airtime)
    # -> backbone (0.6 s at the satellite's 0.005 per s)
    assert s["transmission_cost"] == pytest.approx(1e-4 * 120 + 0.005 * 0.6)
    pricey = tiny_episode([[[1]], [[0]], [[2]]], satellite_access_cost=0.005)
    assert summarize(pricey, simulate(pricey, "cloud", "satellite"), "satellite")["transmission_cost"] == (
        pytest.approx(0.005 * (120 + 0.6))
    )
    ground = summarize(ep, simulate(ep, "cloud", "ground"), "ground")
    # through the core: users -> BS (1.2 GB at 3 Mb/s: 400 s) -> core (1.2 s), 1e-4 per s
    assert ground["transmission_cost"] == pytest.approx(1e-4 * (400 + 1.2))
    assert s["switching_cost"] == s["accuracy_cost"] == s["computation_cost"] == 0.0
