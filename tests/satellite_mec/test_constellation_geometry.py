"""Visibility, elevation and slant range of constellation-scale instances against an independent
computation with skyfield (its built-in timescale and TLE satellites: nothing is downloaded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from offloadlab.physics.orbits import geodetic_to_ecef
from offloadlab.physics.visibility import visible_pairs
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

skyfield_api = pytest.importorskip("skyfield.api")

# tolerances: skyfield rotates TEME to ITRS with UT1 from its tables, nutation and polar motion; the
# generator uses the GMST of SGP4 with UT1 = UTC (up to 0.9 s of Earth rotation: about 0.4 km at the
# ground; measured: at most 0.003 deg of elevation and 24 m of range on these cases)
ELEVATION_TOL_DEG = 0.02
RANGE_TOL_M = 150.0

CASES = [
    ("2026-01-01T00:00:00Z", 0.0, "uniform"),
    ("2025-06-15T12:30:00Z", 1234.5, "clustered"),
]


def skyfield_look(tle: np.ndarray, lat: float, lon: float, when: datetime) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (deg) and range (m) of every satellite from one point, by skyfield."""
    ts = skyfield_api.load.timescale(builtin=True)
    t = ts.from_datetime(when)
    here = skyfield_api.wgs84.latlon(lat, lon, elevation_m=0.0)
    el, rng = [], []
    for line1, line2 in tle:
        alt, _, dist = (skyfield_api.EarthSatellite(str(line1), str(line2), ts=ts) - here).at(t).altaz()
        el.append(alt.degrees)
        rng.append(dist.m)
    return np.array(el), np.array(rng)


@pytest.mark.parametrize(("epoch", "offset_s", "layout"), CASES)
def test_visible_pairs_match_skyfield(epoch, offset_s, layout):
    data = PROBLEM.make_instance(
        5,
        "starlink",
        planes=18,
        per_plane=10,
        N=20,
        I=2,
        epoch_utc=epoch,
        time_offset_s=offset_s,
        layout=layout,
        clusters=3,
        cluster_km=300.0,
    )
    inst = PROBLEM.load_instance(data)
    when = datetime.fromisoformat(epoch.replace("Z", "+00:00")).astimezone(UTC) + timedelta(seconds=offset_s)
    e_min = inst.params.e_min_deg
    checked = 0
    for n in range(inst.params.N):
        el, rng = skyfield_look(data["tle"], data["terminal_lat_deg"][n], data["terminal_lon_deg"][n], when)
        mine = inst.pair_terminal == n
        sats = inst.pair_sat[mine]
        np.testing.assert_allclose(inst.pair_elevation_deg[mine], el[sats], atol=ELEVATION_TOL_DEG)
        np.testing.assert_allclose(inst.pair_range_m[mine], rng[sats], atol=RANGE_TOL_M)
        # the same visible set, except satellites within the tolerance of the e_min horizon
        clear = np.abs(el - e_min) > ELEVATION_TOL_DEG
        assert set(np.flatnonzero(clear & (el >= e_min))) == set(sats[clear[sats]])
        checked += len(sats)
    assert checked >= 20


def test_kd_tree_cull_keeps_every_visible_pair():
    """The culled pairs equal a brute-force elevation test over all pairs."""
    rng = np.random.default_rng(0)
    k = 300
    direction = rng.normal(size=(k, 3))
    sats = direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(6700, 8400, (k, 1))
    ground, up = geodetic_to_ecef(rng.uniform(-80, 80, 500), rng.uniform(-180, 180, 500), np.zeros(500))
    for e_min in (0.0, 10.0, 40.0):
        got = visible_pairs(sats, ground, up, e_min)
        rel = sats[:, None, :] - ground[None, :, :]
        dist = np.linalg.norm(rel, axis=-1)
        el = np.rad2deg(np.arcsin(np.einsum("kgi,gi->kg", rel, up) / dist))
        want_k, want_g = np.nonzero(el >= e_min)
        np.testing.assert_array_equal(got.sat, want_k)
        np.testing.assert_array_equal(got.point, want_g)
        np.testing.assert_allclose(got.elevation_deg, el[want_k, want_g], atol=1e-9)
        np.testing.assert_allclose(got.range_km, dist[want_k, want_g], rtol=1e-12)
