"""Earth-satellite geometry."""

from __future__ import annotations

import numpy as np


def geocentric_angle_rad(elevation_deg: np.ndarray, earth_radius_m: float, altitude_m: float) -> np.ndarray:
    """Geocentric angle θ between terminal and satellite, eq. (2) of seed 000 (radians)."""
    e = np.deg2rad(np.asarray(elevation_deg, dtype=float))
    return np.arccos(earth_radius_m / (earth_radius_m + altitude_m) * np.cos(e)) - e


def slant_range_m(elevation_deg: np.ndarray, earth_radius_m: float, altitude_m: float) -> np.ndarray:
    """Terminal-to-satellite distance d from the elevation angle, eqs. (1)-(2) of seed 000 (metres)."""
    theta = geocentric_angle_rad(elevation_deg, earth_radius_m, altitude_m)
    r, rs = earth_radius_m, earth_radius_m + altitude_m
    return np.sqrt(r**2 + rs**2 - 2.0 * r * rs * np.cos(theta))
