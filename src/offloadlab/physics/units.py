"""Unit conversions between logarithmic and linear scales."""

from __future__ import annotations

import numpy as np

SPEED_OF_LIGHT_M_S = 299_792_458.0


def dbm_to_w(dbm: float | np.ndarray) -> float | np.ndarray:
    """Power in dBm to watts."""
    return 10.0 ** ((np.asarray(dbm, dtype=float) - 30.0) / 10.0)


def db_to_linear(db: float | np.ndarray) -> float | np.ndarray:
    """Power ratio in dB (or dBi) to a linear ratio."""
    return 10.0 ** (np.asarray(db, dtype=float) / 10.0)


def linear_to_db(x: float | np.ndarray) -> float | np.ndarray:
    """Linear power ratio to dB."""
    return 10.0 * np.log10(np.asarray(x, dtype=float))
