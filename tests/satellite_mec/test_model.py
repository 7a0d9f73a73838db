"""Eqs. (1)-(8) and (14) of seed 000 against hand-worked values and a scalar transcription."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.physics.geometry import slant_range_m
from offloadlab.physics.radio import free_space_gain
from offloadlab.scenarios.satellite_mec import model
from offloadlab.scenarios.satellite_mec.model import SatMecInstance, generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from tests.satellite_mec.scalar_reference import latencies

RE, RH = 6.371e6, 5.5e5


def test_slant_range_at_zenith_is_orbit_height():
    assert slant_range_m(90.0, RE, RH) == pytest.approx(RH, rel=1e-12)


def test_slant_range_at_horizon_is_tangent_length():
    # e = 0: theta = arccos(Re/(Re+Rh)); d = sqrt((Re+Rh)^2 - Re^2) = sqrt(6921^2 - 6371^2) km = 2703.81 km
    assert slant_range_m(0.0, RE, RH) == pytest.approx(2_703_812.1, rel=1e-6)


def test_free_space_loss_at_550km_3p49ghz():
    # 20 log10(4 pi d f / c) = 158.11 dB for d = 550 km, f = 3.49 GHz
    loss_db = -10 * math.log10(free_space_gain(5.5e5, 3.49e9))
    assert loss_db == pytest.approx(158.11, abs=0.01)


def _one_sat_instance(data_bits, fading=1.0, I=1, **params):
    p = make_params("default", M=1, N=len(data_bits), I=I, **params)
    return SatMecInstance(p, np.array([90.0]), np.full((1, len(data_bits), I), fading), np.asarray(data_bits, float))


def test_hand_worked_single_offloader():
    # One terminal offloads 4e6 bits at 0.2 W to a satellite at zenith, the other computes locally.
    inst = _one_sat_instance([4e6, 2.4e6])
    g = 10**0.3 * (299_792_458.0 / (4 * math.pi * 3.49e9 * 5.5e5)) ** 2  # eq. (3), |h|^2 = 1
    snr = 0.2 * g / 10 ** ((-134 - 30) / 10)
    rate = 1e7 * math.log2(1 + snr)  # eq. (4) with no interference
    expect0 = 4e6 / rate + 4e6 * 100 / 2e10  # eq. (5) + eq. (7) with the whole F_SAT (eq. 14)
    expect1 = 2.4e6 * 100 / 5e8  # eq. (6): 0.48 s
    ev = model.evaluate(inst, np.array([[1, 0]]), np.array([[0.2], [0.0]]))
    assert 10 * math.log10(snr) == pytest.approx(23 + 3 - 158.11 + 134, abs=0.01)  # link budget in dB: 1.89 dB
    assert ev.details["latency_s"][0] == pytest.approx([expect0, expect1], rel=1e-12)
    assert ev.details["mean_latency_s"][0] == pytest.approx((expect0 + expect1) / 2, rel=1e-12)
    assert ev.feasible[0]


def test_hand_worked_two_offloaders_share_cpu_and_interfere():
    inst = _one_sat_instance([4e6, 1e6])
    ev = model.evaluate(inst, np.array([[1, 1]]), np.array([[0.2], [0.1]]))
    g = 10**0.3 * (299_792_458.0 / (4 * math.pi * 3.49e9 * 5.5e5)) ** 2
    n0 = 10 ** ((-134 - 30) / 10)
    r0 = 1e7 * math.log2(1 + 0.2 * g / (0.1 * g + n0))
    # eq. (14): F0 = F sqrt(4e8)/(sqrt(4e8)+sqrt(1e8)) = 2F/3, so t_sat0 = 4e8 / (2/3 * 2e10) = 0.03 s
    assert ev.details["latency_s"][0, 0] == pytest.approx(4e6 / r0 + 0.03, rel=1e-12)
    cpu = model.eq14_cpu_split(inst, np.array([[[1, 1]]]))
    assert cpu[0, 0] == pytest.approx([2e10 * 2 / 3, 2e10 / 3])


def test_zero_power_offload_misses_deadline():
    inst = _one_sat_instance([4e6])
    ev = model.evaluate(inst, np.array([[1]]), np.array([[0.0]]))
    assert not ev.feasible[0]
    assert ev.violations[0] == ["deadline"]
    assert math.isinf(ev.objective[0])


def test_constraint_violations_are_named(small_instance):
    inst = small_instance
    a = np.zeros((3, 10))
    a[0, 0] = a[1, 0] = 1
    pw = np.zeros((10, 4))
    pw[0] = [0.2, 0.2, 0, 0]
    pw[1, 0] = -0.1
    ev = model.evaluate(inst, a, pw)
    assert set(ev.violations[0]) >= {"offloaded_to_multiple_satellites", "power_budget", "negative_power"}
    assert not ev.feasible[0]


@pytest.mark.parametrize("mode", ["physical", "paper"])
def test_vectorized_matches_scalar_transcription(mode):
    inst = generate_instance(make_params("default", M=3, N=6, I=3, interference=mode), seed=3)
    rng = np.random.default_rng(0)
    batch = PROBLEM.random_decisions(inst, rng, 20)
    lat = model.latency_s(inst, batch["offload"], batch["power_w"])
    for b in range(20):
        expect = latencies(inst, batch["offload"][b].tolist(), batch["power_w"][b].tolist(), mode)
        np.testing.assert_allclose(lat[b], expect, rtol=1e-10)


def test_large_instance_path_matches_block_diagonal_product():
    """Instances too large for the block-diagonal gain use I matrix products; both give one answer."""
    inst = generate_instance(make_params("default", M=4, N=12, I=3), seed=5)
    batch = PROBLEM.random_decisions(inst, np.random.default_rng(2), 16)
    assert inst.gain_blocks is not None
    fast = model.latency_s(inst, batch["offload"], batch["power_w"])
    inst.__dict__["gain_blocks"] = None  # what the size limit gives at large (M, N, I)
    np.testing.assert_allclose(model.latency_s(inst, batch["offload"], batch["power_w"]), fast, rtol=1e-12)


def test_blocked_evaluation_equals_one_pass(small_instance, monkeypatch):
    batch = PROBLEM.random_decisions(small_instance, np.random.default_rng(4), 23)
    whole = model.evaluate(small_instance, batch["offload"], batch["power_w"])
    par = small_instance.params
    monkeypatch.setattr(model, "BLOCK_ELEMENTS", 5 * par.N * max(par.I, par.M))  # blocks of 5 decisions
    blocked = model.evaluate(small_instance, batch["offload"], batch["power_w"])
    np.testing.assert_array_equal(blocked.objective, whole.objective)
    np.testing.assert_array_equal(blocked.details["latency_s"], whole.details["latency_s"])
    assert list(blocked.violations) == list(whole.violations) and len(blocked.violations) == 23


def test_batch_equals_per_decision(small_instance):
    rng = np.random.default_rng(1)
    batch = PROBLEM.random_decisions(small_instance, rng, 64)
    ev = model.evaluate(small_instance, batch["offload"], batch["power_w"])
    for b in range(64):
        one = model.evaluate(small_instance, batch["offload"][b], batch["power_w"][b])
        assert one.objective[0] == pytest.approx(ev.objective[b], rel=1e-12)
        np.testing.assert_allclose(one.details["latency_s"][0], ev.details["latency_s"][b], rtol=1e-12)
        assert one.violations[0] == ev.violations[b]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), split_seed=st.integers(0, 10_000))
def test_eq14_split_never_worse_than_random_feasible_split(seed, split_seed):
    inst = generate_instance(make_params("default", M=2, N=6, I=2), seed=seed)
    rng = np.random.default_rng(split_seed)
    d = PROBLEM.random_decisions(inst, rng, 1)
    a, pw = d["offload"], d["power_w"]
    best = model.latency_s(inst, a, pw).mean()
    # random feasible split: Dirichlet shares of F_SAT among each satellite's offloaded tasks
    shares = rng.dirichlet(np.ones(inst.params.N), size=(1, inst.params.M)) * a
    shares = shares / np.where(shares.sum(-1, keepdims=True) > 0, shares.sum(-1, keepdims=True), 1)
    cpu = shares * inst.params.f_sat_hz
    other = model.latency_s(inst, a, pw, cpu_hz=cpu).mean()
    assert best <= other * (1 + 1e-12)
    # and the closed form is itself a feasible split of eq. (9c)
    f14 = model.eq14_cpu_split(inst, a)
    assert np.all(f14.sum(-1) <= inst.params.f_sat_hz * (1 + 1e-12))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(1.0, 10.0))
def test_more_power_never_lowers_rate_without_interference(seed, scale):
    inst = generate_instance(make_params("default", M=2, N=4, I=3, p_max_w=10.0), seed=seed)
    a = np.zeros((1, 2, 4))
    a[0, seed % 2, seed % 4] = 1  # a single transmitter: no interference
    pw = np.random.default_rng(seed).uniform(0, 0.1, size=(1, 4, 3))
    r1 = model.uplink_rate_bps(inst, a, pw)
    r2 = model.uplink_rate_bps(inst, a, pw * scale)
    assert np.all(r2 >= r1)


def test_paper_preset_makes_offloading_hopeless():
    inst = generate_instance(make_params("paper", M=3, N=10, I=4), seed=0)
    a = np.zeros((3, 10))
    a[0, 0] = 1
    pw = np.zeros((10, 4))
    pw[0] = inst.params.p_max_w / 4
    lat = model.latency_s(inst, a[None], pw[None])[0, 0]
    assert lat > 60  # minutes to upload at 0.2 mW


def test_instance_json_round_trip(small_instance):
    data = small_instance.to_json()
    back = model.load_instance(data)
    np.testing.assert_array_equal(back.fading_power, small_instance.fading_power)
    assert back.params == small_instance.params
