"""Radio links: free-space gain, Rician fading, Shannon rate."""

from __future__ import annotations

import numpy as np

from offloadlab.physics.units import SPEED_OF_LIGHT_M_S


def free_space_gain(distance_m: np.ndarray, carrier_hz: float) -> np.ndarray:
    """Free-space path gain (c / (4π f_c d))², linear and dimensionless."""
    return (SPEED_OF_LIGHT_M_S / (4.0 * np.pi * carrier_hz * np.asarray(distance_m, dtype=float))) ** 2


def rician_power(rng: np.random.Generator, k_factor_db: float, size: tuple[int, ...]) -> np.ndarray:
    """Samples of |h|² for unit-mean-power Rician fading with factor K (in dB)."""
    k = 10.0 ** (k_factor_db / 10.0)
    los = np.sqrt(k / (k + 1.0))
    sigma = np.sqrt(1.0 / (2.0 * (k + 1.0)))
    h = los + sigma * (rng.standard_normal(size) + 1j * rng.standard_normal(size))
    return np.abs(h) ** 2


def shannon_rate_bps(bandwidth_hz: float, sinr: np.ndarray) -> np.ndarray:
    """B log2(1 + SINR), bits per second."""
    return bandwidth_hz * np.log2(1.0 + sinr)
