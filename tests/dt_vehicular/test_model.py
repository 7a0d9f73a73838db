"""Eqs. (2)-(16) and (24) of seed 004 against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from offloadlab.physics.cellular import (
    correlated_shadowing_db,
    gauss_markov_fading,
    jakes_correlation,
    macro_path_loss_db,
)
from offloadlab.physics.radio import shannon_rate_bps
from offloadlab.scenarios.dt_vehicular.model import (
    generate_episode,
    make_params,
    next_queue,
    project,
    run_stationary,
    slot_costs,
)
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM


def test_path_loss_and_rate_at_100m():
    # 128.1 + 37.6 log10(0.1) = 90.5 dB; SNR = 0.2 W * 10^-9.05 / 1e-14 W = 17825 (42.51 dB)
    assert macro_path_loss_db(100.0) == pytest.approx(90.5, abs=1e-12)
    snr = 0.2 * 10 ** (-9.05) / 1e-14
    assert snr == pytest.approx(17825.0, rel=1e-5)
    assert shannon_rate_bps(20e6, snr) == pytest.approx(20e6 * 14.12170, rel=1e-5)  # 282.4 Mbit/s


def test_jakes_correlation():
    # v = 15 m/s at 2 GHz: f_d = 100.07 Hz; J0(0.62875) = 1 - x^2/4 + x^4/64 - x^6/2304 = 0.903583
    assert jakes_correlation(np.array([0.0]), 2e9, 0.1)[0] == 1.0
    assert jakes_correlation(np.array([15.0]), 2e9, 1e-3)[0] == pytest.approx(0.903583, abs=1e-6)


def test_gauss_markov_keeps_unit_power_and_correlation():
    rng = np.random.default_rng(0)
    s = gauss_markov_fading(rng, np.full(2000, 0.8), 200)
    assert np.mean(np.abs(s) ** 2) == pytest.approx(1.0, abs=0.01)
    lag1 = np.mean((s[1:] * np.conj(s[:-1])).real)
    assert lag1 == pytest.approx(0.8, abs=0.01)


def test_shadowing_std_and_decorrelation():
    rng = np.random.default_rng(1)
    x = correlated_shadowing_db(rng, np.full(4000, 50.0), 60, 8.0, 50.0)  # moving one decorrelation distance
    assert x.std() == pytest.approx(8.0, rel=0.02)
    assert np.corrcoef(x[1:].ravel(), x[:-1].ravel())[0, 1] == pytest.approx(math.exp(-1), abs=0.02)


def _one_task(**over):
    return make_params("paper", **{"N": 1, "K": 1, "delta_f": 0.2, "beta": 1e-9, "deadline_s": 0.1, **over})


def test_slot_terms_hand_worked():
    # |D| = 1000 B, omega = 0.5, alpha = 0.25, rate 10 Mbit/s, delta_f = 0.2, q = 1e5 B (worked in the docs)
    p = _one_task()
    c = slot_costs(p, np.array([1e7]), np.array([[1000.0]]), np.array([1e5]), np.array([[[0.5]]]), np.array([[[0.25]]]))
    assert c.t_local[0, 0, 0] == pytest.approx(0.025, rel=1e-12)  # eq. (7): 0.5*1000*0.25e6 / 5e9
    assert c.t_upload[0, 0, 0] == pytest.approx(4e-4, rel=1e-12)  # 0.5*1000*8 / 1e7
    assert c.t_edge_nominal[0, 0, 0] == pytest.approx(1.25e-3, rel=1e-12)  # 1.25e8 / (0.25 * 400e9)
    assert c.dt_est[0, 0, 0] == pytest.approx(-2.5e18 / 1.2e22, rel=1e-12)  # eq. (8): -1.25e8*2e10/(1e11*1.2e11)
    assert c.latency[0, 0, 0] == pytest.approx(0.025 + 4e-4 + 1.25e8 / 1.2e11, rel=1e-12)  # eqs. (9)-(10)
    assert c.qos[0] == pytest.approx(1 - 0.02644166666666667 / 0.1, rel=1e-12)  # eqs. (11)-(13)
    assert c.local_energy[0] == pytest.approx(12.5 * 0.025, rel=1e-12)  # eq. (14): f_v^3 kappa t = 12.5 W * t
    assert c.edge_energy[0] == pytest.approx(10 * 0.025**3, rel=1e-12)  # eq. (15): N_E (0.25 f_E / N_E)^3 / f_E^3
    assert c.arrivals[0, 0] == pytest.approx(500.0)
    assert c.service[0, 0] == pytest.approx(48_000.0, rel=1e-12)  # 0.1 s * 1.2 * 400e9 * 0.25 / 0.25e6
    assert c.drift[0] == pytest.approx(1e5 * (500 - 48_000), rel=1e-12)
    expected = 1e-9 * c.drift[0] - c.qos[0] + 0.3125 + 1.5625e-4  # eq. (24)
    assert c.p2[0] == pytest.approx(expected, rel=1e-12) and c.p2[0] == pytest.approx(-5.17292708, rel=1e-8)
    assert c.capacity[0] == pytest.approx(0.3)
    assert next_queue(np.array([1e5]), c)[0, 0] == pytest.approx(52_500.0)  # eq. (5)


def test_bias_is_the_real_frequency():
    # eqs. (8)-(9) add up to omega |D| c / (alpha f_E (1 + delta_f)) for any bias
    for df in (-0.5, -0.2, 0.0, 0.2, 0.5):
        p = _one_task(delta_f=df)
        c = slot_costs(
            p, np.array([np.inf]), np.array([[1200.0]]), np.zeros(1), np.ones((1, 1, 1)), np.full((1, 1, 1), 0.1)
        )
        assert c.latency[0, 0, 0] == pytest.approx(1200 * 0.25e6 / (0.1 * 400e9 * (1 + df)), rel=1e-12)


def test_local_only_has_no_edge_terms_and_empty_queues():
    p = make_params("paper", N=3, K=2)
    ep = generate_episode(p, 0)
    zero = np.zeros((1, 3, 2))
    c = slot_costs(p, ep.rate_bps[0], ep.task_bytes[0], np.zeros(2), zero, zero)
    assert c.edge_energy[0] == 0 and np.all(c.t_upload == 0) and np.all(c.arrivals == 0)
    assert c.local_energy[0] == pytest.approx(12.5 * (ep.task_bytes[0] * 0.25e6 / 5e9).sum(), rel=1e-12)


def test_offloading_without_cpu_is_infinitely_late_and_infeasible():
    ep = generate_episode(make_params("paper", N=1, K=1, slots=2), 0)
    ev = PROBLEM.evaluate(ep, {"omega": np.ones((1, 1)), "alpha": np.zeros((1, 1))})
    assert not ev.feasible[0] and "offloaded_without_cpu" in ev.violations[0] and ev.objective[0] == np.inf


def test_projection_respects_capacity_and_floor():
    p = make_params("default", N=4, K=3, delta_f=0.5)
    rng = np.random.default_rng(0)
    w, a = project(p, rng.uniform(-0.5, 1.5, (64, 4, 3)), rng.uniform(0, 2, (64, 4, 3)))
    assert np.all((w >= 0) & (w <= 1)) and np.all(a >= 0)
    assert np.all(a.sum(axis=(1, 2)) * 1.5 <= 1 + 1e-12)
    assert np.all(a[w > 0] > 0)


def test_episode_is_seeded_and_within_bounds():
    p = make_params("default", N=5, slots=40)
    a, b, c = generate_episode(p, 7), generate_episode(p, 7), generate_episode(p, 8)
    assert np.array_equal(a.rate_bps, b.rate_bps) and np.array_equal(a.task_bytes, b.task_bytes)
    assert not np.array_equal(a.rate_bps, c.rate_bps)
    assert np.all(np.abs(a.position_m) <= 500) and np.all((a.speed_mps >= 10) & (a.speed_mps <= 15))
    assert np.all((a.task_bytes >= 1000) & (a.task_bytes <= 1500))
    # vehicles move v tau per slot (until they wrap around)
    step = np.diff(a.position_m, axis=0)
    moved = np.isclose(step, a.speed_mps * 0.1) | np.isclose(step, a.speed_mps * 0.1 - 1000)
    assert moved.all()


def test_stationary_evaluation_matches_the_local_solver():
    from offloadlab.core.run import solve

    data = PROBLEM.make_instance(3, "default", N=3, slots=10)
    ep = PROBLEM.load_instance(data)
    ev = PROBLEM.evaluate(ep, {k: v[None] for k, v in PROBLEM.local_decision(ep).items()})
    _, _, res = solve(data, "local", seed=0)
    assert ev.feasible[0] and ev.objective[0] == pytest.approx(res.objective, rel=1e-12)
    assert ev.details["energy_j"][0] == pytest.approx(res.details["energy_j"], rel=1e-12)


def test_stationary_full_offload_builds_queues_when_overloaded():
    p = make_params("default", N=10, slots=20)
    ep = generate_episode(p, 0)
    w = np.ones((1, 10, 3))
    a = np.full((1, 10, 3), 1 / 30)
    log, queue = run_stationary(ep, w, a)
    # arrivals of about 10 * 1250 B per type and slot exceed the 20 kB per slot the 50 GHz server serves in total
    assert queue.sum() > 0 and np.all(np.diff(log.series()["queue_bytes"][:, 0]) >= 0)
