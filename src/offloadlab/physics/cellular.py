"""Terrestrial cellular links of moving users: macro path loss, correlated shadowing, Gauss-Markov fading."""

from __future__ import annotations

import numpy as np
from scipy.special import j0

from offloadlab.physics.units import SPEED_OF_LIGHT_M_S


def macro_path_loss_db(distance_m: np.ndarray) -> np.ndarray:
    """3GPP macro-cell path loss 128.1 + 37.6 log10(d / 1 km), in dB (d in metres)."""
    return 128.1 + 37.6 * np.log10(np.asarray(distance_m, dtype=float) / 1000.0)


def doppler_hz(speed_mps: np.ndarray, carrier_hz: float) -> np.ndarray:
    """Maximum Doppler frequency f_d = v f_c / c."""
    return np.asarray(speed_mps, dtype=float) * carrier_hz / SPEED_OF_LIGHT_M_S


def jakes_correlation(speed_mps: np.ndarray, carrier_hz: float, interval_s: float) -> np.ndarray:
    """Slot-to-slot correlation kappa = J0(2 pi f_d dt) of Jakes' model."""
    return j0(2.0 * np.pi * doppler_hz(speed_mps, carrier_hz) * interval_s)


def gauss_markov_fading(rng: np.random.Generator, rho: np.ndarray, steps: int) -> np.ndarray:
    """Small-scale fading s[t, n] = rho_n s[t-1, n] + e[t, n], e ~ CN(0, 1 - rho_n^2), s[0] ~ CN(0, 1).

    Every s[t] is CN(0, 1), so E|s|^2 = 1 at all times. Returns complex [steps, len(rho)].
    """
    rho = np.asarray(rho, dtype=float)
    noise = (rng.standard_normal((steps, rho.size)) + 1j * rng.standard_normal((steps, rho.size))) / np.sqrt(2.0)
    s = np.empty((steps, rho.size), dtype=complex)
    s[0] = noise[0]
    innovation = np.sqrt(np.clip(1.0 - rho**2, 0.0, None))
    for t in range(1, steps):
        s[t] = rho * s[t - 1] + innovation * noise[t]
    return s


def correlated_shadowing_db(
    rng: np.random.Generator, moved_m: np.ndarray, steps: int, std_db: float, decorrelation_m: float
) -> np.ndarray:
    """Log-normal shadowing in dB, AR(1) in travelled distance (Gudmundson): [steps, len(moved_m)].

    x[t] = e^(-d/D) x[t-1] + sqrt(1 - e^(-2d/D)) N(0, std^2), with d the distance moved per step.
    """
    moved = np.asarray(moved_m, dtype=float)
    a = np.exp(-moved / decorrelation_m)
    draws = rng.standard_normal((steps, moved.size)) * std_db
    x = np.empty((steps, moved.size))
    x[0] = draws[0]
    for t in range(1, steps):
        x[t] = a * x[t - 1] + np.sqrt(1.0 - a**2) * draws[t]
    return x
