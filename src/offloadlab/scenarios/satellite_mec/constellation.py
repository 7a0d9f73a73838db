"""Constellation-scale instances from orbits: Walker shells (or a TLE file) propagated with SGP4 to one
instant, terminals placed over a region, the visible pairs with their elevation and slant range, and
Rician fading per pair and sub-channel.

Choices where seed 000 is silent (docs/satellite-mec-scale.md): terminals at sea level; ``uniform``
places them uniformly in area over the latitude/longitude box, ``clustered`` around ``clusters``
centres drawn the same way with Gaussian offsets of ``cluster_km`` (clipped to the box); task
sizes and the Rician K factor as in the dense generator; the seed draws terminals, then task sizes,
then fading, so the same seed gives the same terminals at every epoch of a time sweep.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sgp4.api import SatrecArray

from offloadlab.core.resources import check_memory
from offloadlab.physics.orbits import (
    WalkerSpec,
    epoch_jd,
    geodetic_to_ecef,
    parse_epoch,
    parse_tle,
    propagate_ecef,
    walker_tles,
)
from offloadlab.physics.radio import rician_power
from offloadlab.physics.visibility import visible_pairs
from offloadlab.scenarios.satellite_mec.scale_params import ScaleParams, read_tle_file
from offloadlab.scenarios.satellite_mec.sparse import SparseInstance

KM_PER_DEG = 111.195  # great-circle km per degree on the mean Earth radius
FADING_BLOCK = 1 << 18  # pairs per block of fading draws: bounds the complex temporaries


def constellation_tles(params: ScaleParams) -> list[tuple[str, str]]:
    """Two-line elements of the constellation: the user's file, or the Walker shells at the epoch."""
    if params.tle_file:
        return read_tle_file(params.tle_file)
    epoch = parse_epoch(params.epoch_utc, "params.epoch_utc")
    out: list[tuple[str, str]] = []
    for shell in params.shells():
        spec = WalkerSpec(
            satellites=shell.planes * shell.per_plane,
            planes=shell.planes,
            inclination_deg=shell.inclination_deg,
            phasing=shell.phasing,
            altitude_min_km=shell.altitude_km,
            altitude_max_km=shell.altitude_km,
        )
        out += walker_tles(spec, epoch, first_satnum=len(out))
    return out


def satellite_positions_km(params: ScaleParams, tles: list[tuple[str, str]]) -> np.ndarray:
    """Earth-fixed positions [M, 3] (km) at the epoch plus ``time_offset_s``; NaN where SGP4 fails."""
    sats = [parse_tle(a, b, f"tle[{k}]") for k, (a, b) in enumerate(tles)]
    jd0, fr0 = epoch_jd(parse_epoch(params.epoch_utc, "params.epoch_utc"))
    pos, bad = propagate_ecef(SatrecArray(sats), jd0, fr0, np.array([params.time_offset_s]))
    return np.where(bad[:, :1], np.nan, pos[:, 0, :])


def place_terminals(params: ScaleParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes [N] (deg) of the terminals over the region."""

    def uniform(n: int) -> tuple[np.ndarray, np.ndarray]:
        s = rng.uniform(np.sin(np.deg2rad(params.lat_min_deg)), np.sin(np.deg2rad(params.lat_max_deg)), n)
        return np.rad2deg(np.arcsin(s)), rng.uniform(params.lon_min_deg, params.lon_max_deg, n)

    if params.layout == "uniform":
        return uniform(params.N)
    c_lat, c_lon = uniform(params.clusters)
    which = rng.integers(0, params.clusters, params.N)
    dy, dx = rng.normal(0.0, params.cluster_km, (2, params.N)) / KM_PER_DEG
    lat = np.clip(c_lat[which] + dy, params.lat_min_deg, params.lat_max_deg)
    lon = c_lon[which] + dx / np.maximum(np.cos(np.deg2rad(lat)), 1e-3)
    return lat, np.clip(lon, params.lon_min_deg, params.lon_max_deg)


def generate_scale_instance(params: ScaleParams, seed: int) -> SparseInstance:
    """A constellation-scale instance: visible pairs at the epoch, their ranges and fading, task sizes."""
    tles = constellation_tles(params)
    sat_pos = satellite_positions_km(params, tles)
    rng = np.random.default_rng(seed)
    lat, lon = place_terminals(params, rng)
    bits = rng.uniform(params.data_mb_min, params.data_mb_max, size=params.N) * 1e6 * 8
    term_pos, up = geodetic_to_ecef(lat, lon, np.zeros(params.N))
    ok = np.flatnonzero(np.isfinite(sat_pos).all(axis=1))  # decayed or failed satellites see nobody
    pairs = visible_pairs(sat_pos[ok], term_pos, up, params.e_min_deg)
    check_memory("instance", params.estimate_bytes(pairs=len(pairs.sat)), f"{len(pairs.sat)} visible pairs")
    fading = np.empty((len(pairs.sat), params.I), dtype=np.float32)
    for lo in range(0, len(fading), FADING_BLOCK):
        block = fading[lo : lo + FADING_BLOCK]
        block[:] = rician_power(rng, params.rician_k_db, block.shape)
    epoch = parse_epoch(params.epoch_utc) + timedelta(seconds=params.time_offset_s)
    extra = {
        "seed": seed,
        "instant_utc": epoch.isoformat().replace("+00:00", "Z"),
        "terminal_lat_deg": lat,
        "terminal_lon_deg": lon,
        "tle": np.array(tles, dtype=str).reshape(len(tles), 2),
    }
    return SparseInstance(
        params,
        ok[pairs.sat].astype(np.int32),
        pairs.point,
        pairs.elevation_deg,
        pairs.range_km * 1000.0,
        fading,
        bits,
        extra,
    )
