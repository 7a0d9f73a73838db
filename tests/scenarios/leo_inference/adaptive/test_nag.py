"""Gradient descent and standard NAG on a quadratic, with hand-worked first iterates."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.nag import gradient_descent, momentum_schedule, nesterov

A = np.array([1.0, 100.0])  # f(x) = 0.5 * sum(A x^2), L = 100, beta = 1 / L = 0.01


def quad(x):
    return float(0.5 * np.sum(A * x * x)), A * x


def test_momentum_schedule_by_hand():
    q = momentum_schedule(3)
    # t1 = (1 + sqrt 5) / 2 = 1.6180, t2 = (1 + sqrt(1 + 4 t1^2)) / 2 = 2.1935, Q1 = 0.6180 / 2.1935
    assert q[0] == 0.0 and q[1] == pytest.approx(0.28175, abs=1e-5)
    assert np.all(np.diff(q) > 0) and q[-1] < 1


def test_first_iterates_by_hand():
    x, losses = gradient_descent(quad, np.ones(2), 0.01, 1)
    np.testing.assert_allclose(x, [0.99, 0.0])
    assert losses[0] == pytest.approx(50.5)
    # NAG: Gamma0 = (0.99, 0), y1 = Gamma0 (Q0 = 0), Gamma1 = (0.9801, 0),
    # y2 = Gamma1 + 0.28175 * (Gamma1 - Gamma0) = 0.9801 - 0.0027893 = 0.977311
    _, losses = nesterov(quad, np.ones(2), 0.01, 3)
    assert losses[1] == pytest.approx(0.5 * 0.99**2)
    assert losses[2] == pytest.approx(0.5 * 0.977311**2, rel=1e-5)


def test_nag_converges_faster_than_gd_on_a_quadratic():
    _, gd = gradient_descent(quad, np.ones(2), 0.01, 200)
    _, nag = nesterov(quad, np.ones(2), 0.01, 200)
    # GD's slow mode contracts by 0.99 per step: loss 0.5 * 0.99^400 = 0.009 after 200 steps
    assert gd[-1] == pytest.approx(0.5 * 0.99**398, rel=1e-6)
    assert nag[-1] < gd[-1] / 100


def test_bad_step_is_rejected():
    with pytest.raises(InputError):
        nesterov(quad, np.ones(2), 0.0, 10)
