"""The per-slot P2 solver against brute force on small grids, and weak duality of its bound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.methods.dt_vehicular.lyapunov import _p2, solve_slot
from offloadlab.scenarios.dt_vehicular.model import generate_episode, make_params, project

CASES = [
    ("paper", {"N": 2, "K": 1}, 0.0),  # server idle: offload everything
    ("default", {"N": 1, "K": 2}, 3000.0),  # backlogged queues
    ("default", {"N": 2, "K": 1, "delta_f": -0.5}, 0.0),
    ("paper", {"N": 1, "K": 2, "f_edge_hz": 8e9, "kappa_edge": 1 / 8e9**3, "delta_f": 0.3}, 0.0),  # contended
]


def brute_force(p, rate, D, q, n_omega=11, n_alpha=26) -> float:
    """Min of P2 over omega on a grid of n_omega and alpha on a grid of n_alpha, per task."""
    N, K = D.shape
    ws = np.linspace(0, 1, n_omega)
    alphas = np.linspace(0, min(1.0, 1 / p.capacity_factor), n_alpha)
    combos = np.asarray(list(itertools.product(range(n_omega * n_alpha), repeat=N * K)))
    W = ws[combos % n_omega].reshape(-1, N, K)
    A = alphas[combos // n_omega].reshape(-1, N, K)
    return float(min(_p2(p, rate, D, q, W[c], A[c]).min() for c in np.array_split(np.arange(len(W)), 8)))


@pytest.mark.parametrize("preset,over,backlog", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_lyapunov_slot_beats_brute_force_grid(preset, over, backlog, seed):
    p = make_params(preset, **over)
    ep = generate_episode(p, seed)
    q = np.full(p.K, backlog) * np.random.default_rng(seed).uniform(0.5, 1.5, p.K)
    sol = solve_slot(p, ep.rate_bps[0], ep.task_bytes[0], q)
    grid = brute_force(p, ep.rate_bps[0], ep.task_bytes[0], q)
    scale = max(1.0, abs(grid))
    assert sol.p2 <= grid + 1e-12 * scale  # the continuous solution is at least as good as every grid point
    assert sol.lower_bound <= grid + 1e-12 * scale  # and the dual bound is a valid bound
    assert sol.gap <= 1e-9 * scale  # no mode jumps in these tiny slots: certified optimal
    assert np.isfinite(_p2(p, ep.rate_bps[0], ep.task_bytes[0], q, sol.omega[None], sol.alpha[None])[0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 4), df=st.sampled_from([-0.5, -0.2, 0.0, 0.2, 0.5]))
def test_dual_bound_below_any_feasible_decision(seed, n, df):
    p = make_params("default", N=n, K=3, delta_f=df, slots=1)
    ep = generate_episode(p, seed)
    rng = np.random.default_rng(seed)
    q = rng.uniform(0, 2e4, 3)
    sol = solve_slot(p, ep.rate_bps[0], ep.task_bytes[0], q)
    w, a = project(p, rng.uniform(size=(256, n, 3)), rng.uniform(size=(256, n, 3)))
    vals = _p2(p, ep.rate_bps[0], ep.task_bytes[0], q, w * rng.integers(0, 2, w.shape), a)
    assert sol.lower_bound <= vals.min() + 1e-12 * max(1.0, abs(vals.min()))
    assert sol.p2 <= vals.min() + 1e-12 * max(1.0, abs(vals.min()))
    assert sol.gap >= 0


def test_contended_episode_gaps_are_small():
    p = make_params("default", N=4, slots=6)
    ep = generate_episode(p, 3)
    gaps = [solve_slot(p, ep.rate_bps[t], ep.task_bytes[t], np.zeros(3)).gap for t in range(6)]
    assert max(gaps) < 0.01  # relative to P2 values of order 0.3
