"""Which satellites each ground point sees at one instant, for thousands of satellites and
hundreds of thousands of points: a KD-tree cull on Earth-fixed positions, then the exact
elevation and slant range of each surviving (satellite, point) pair.

Distances are in km (as in ``physics.orbits``). The cull radius is the slant range at which a
satellite at the constellation's largest radius sits on the e_min horizon of a point at the
smallest ground radius (a sphere), widened by the 0.2 deg between geodetic and geocentric up;
every pair the exact test keeps is therefore inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

# geodetic and geocentric verticals differ by at most 0.193 deg on WGS84
VERTICAL_SLACK_DEG = 0.2
POINT_CHUNK = 20_000  # ground points per KD-tree query: bounds the candidate arrays


@dataclass(frozen=True)
class Pairs:
    """Visible (satellite, point) pairs as parallel arrays, sorted by satellite then point."""

    sat: np.ndarray  # [P] int32
    point: np.ndarray  # [P] int32
    range_km: np.ndarray  # [P]
    elevation_deg: np.ndarray  # [P]


def horizon_range_km(sat_radius_km: float, ground_radius_km: float, e_min_deg: float) -> float:
    """Slant range of a satellite at radius ``sat_radius_km`` seen at elevation ``e_min_deg`` from a point at
    radius ``ground_radius_km`` (spherical geometry): the law of cosines solved for the range."""
    e = np.deg2rad(e_min_deg)
    rg = ground_radius_km
    return float(np.sqrt(sat_radius_km**2 - (rg * np.cos(e)) ** 2) - rg * np.sin(e))


def visible_pairs(sat_ecef_km: np.ndarray, point_ecef_km: np.ndarray, point_up: np.ndarray, e_min_deg: float) -> Pairs:
    """Every pair with elevation >= ``e_min_deg``, from satellites [K, 3] and points [G, 3] with their
    local up unit vectors [G, 3] (Earth-fixed, km)."""
    sat_r = np.linalg.norm(sat_ecef_km, axis=1)
    point_r = np.linalg.norm(point_ecef_km, axis=1)
    if len(sat_r) == 0 or len(point_r) == 0:
        empty = np.zeros(0)
        return Pairs(empty.astype(np.int32), empty.astype(np.int32), empty, empty)
    cull_km = horizon_range_km(float(sat_r.max()), float(point_r.min()), max(e_min_deg - VERTICAL_SLACK_DEG, 0.0))
    tree = cKDTree(sat_ecef_km)
    parts = []
    for lo in range(0, len(point_r), POINT_CHUNK):
        pts = point_ecef_km[lo : lo + POINT_CHUNK]
        cand = cKDTree(pts).sparse_distance_matrix(tree, cull_km, output_type="ndarray")
        g, k, dist = cand["i"].astype(np.int64) + lo, cand["j"].astype(np.int64), cand["v"]
        # height of the satellite above the point's horizontal plane, over the range: sin(elevation)
        height = np.einsum("pi,pi->p", sat_ecef_km[k] - point_ecef_km[g], point_up[g])
        el = np.rad2deg(np.arcsin(np.clip(height / np.where(dist > 0, dist, 1.0), -1.0, 1.0)))
        keep = el >= e_min_deg
        parts.append((k[keep], g[keep], dist[keep], el[keep]))
    k, g, dist, el = (np.concatenate(a) for a in zip(*parts))
    order = np.lexsort((g, k))
    return Pairs(k[order].astype(np.int32), g[order].astype(np.int32), dist[order], el[order])
