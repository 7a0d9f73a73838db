"""Plain gradient descent and Nesterov's accelerated gradient (Fig. 6, eqs. 33-34).

Eqs. 33-34 use gamma both as the iterate and as a scalar, and their Q[k] has no standard reading; we
implement standard NAG (Nesterov 1983, in the form of Beck and Teboulle's FISTA without a prox):

    Gamma[k]  = y[k] - beta * grad L(y[k])                        (eq. 33, unchanged)
    t[0] = 1, t[k+1] = (1 + sqrt(1 + 4 t[k]^2)) / 2               (the paper's "gamma[0] = 1" scalar)
    y[k+1]    = Gamma[k] + (t[k] - 1) / t[k+1] * (Gamma[k] - Gamma[k-1])   (eq. 34 with Q[k] = (t[k]-1)/t[k+1])

with Gamma[-1] = y[0]. Both methods record, per iteration, the loss at the point where the gradient is
taken (one loss-and-gradient call per iteration each), with the same step size beta (paper: 0.01).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from offloadlab.core.errors import InputError

LossGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _check(beta: float, steps: int) -> None:
    if not (beta > 0 and steps >= 1):
        raise InputError("optimizer", "beta must be > 0 and steps >= 1")


def momentum_schedule(steps: int) -> np.ndarray:
    """Q[k] = (t[k] - 1) / t[k+1] for k = 0..steps-1 (Q[0] = 0, increasing towards 1)."""
    t = np.ones(steps + 1)
    for k in range(steps):
        t[k + 1] = (1 + np.sqrt(1 + 4 * t[k] ** 2)) / 2
    return (t[:-1] - 1) / t[1:]


def gradient_descent(fg: LossGrad, x0: np.ndarray, beta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """x[k+1] = x[k] - beta grad L(x[k]); returns the last iterate and the loss at x[0..steps-1]."""
    _check(beta, steps)
    x, losses = np.array(x0, dtype=float), np.empty(steps)
    for k in range(steps):
        losses[k], g = fg(x)
        x = x - beta * g
    return x, losses


def nesterov(fg: LossGrad, x0: np.ndarray, beta: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Standard NAG (module docstring); returns the last Gamma and the loss at y[0..steps-1]."""
    _check(beta, steps)
    q = momentum_schedule(steps)
    y, losses = np.array(x0, dtype=float), np.empty(steps)
    gamma_prev = y.copy()
    for k in range(steps):
        losses[k], g = fg(y)
        gamma = y - beta * g
        y = gamma + q[k] * (gamma - gamma_prev)
        gamma_prev = gamma
    return gamma_prev, losses
