"""Orbits: TLE text, hand-worked look angles, and contact windows against skyfield's find_events."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.physics.orbits import (
    R_EARTH_KM,
    Stations,
    WalkerSpec,
    aligned_raan_deg,
    contact_windows,
    contact_windows_loop,
    format_tle,
    geodetic_to_ecef,
    look_angles,
    mean_motion_rev_per_day,
    orbital_period_s,
    parse_tle,
    plane_layout,
    tle_checksum,
    walker_tles,
)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
MIYUN = Stations(np.array([40.45]), np.array([116.86]), np.array([100.0]), np.array([10.0]))
ISS = (
    "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927",
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537",
)


def test_checksum_of_a_published_tle():
    assert tle_checksum(ISS[0]) == 7 and tle_checksum(ISS[1]) == 7


def test_generated_tle_is_valid_and_round_trips():
    l1, l2 = format_tle(12345, EPOCH, 53.0, 120.5, 0.001, 10.0, 200.25, 15.2)
    assert len(l1) == len(l2) == 69
    sat = parse_tle(l1, l2)
    assert sat.satnum == 12345
    assert math.degrees(sat.inclo) == pytest.approx(53.0)
    assert math.degrees(sat.nodeo) == pytest.approx(120.5)
    assert sat.ecco == pytest.approx(0.001)
    assert sat.no_kozai * 1440 / (2 * math.pi) == pytest.approx(15.2)
    assert sat.epochyr == 24 and sat.epochdays == pytest.approx(1.0)


def test_period_at_500_and_700_km():
    # two-body periods: 94.6 min at 500 km, 98.8 min at 700 km (the paper's 92.75-104.56 min span ~410-970 km)
    assert orbital_period_s(500) / 60 == pytest.approx(94.62, abs=0.05)
    assert orbital_period_s(700) / 60 == pytest.approx(98.77, abs=0.05)
    assert mean_motion_rev_per_day(500) == pytest.approx(86400 / orbital_period_s(500))


@pytest.mark.parametrize(
    "bad, field",
    [
        ((ISS[0][:-1] + "0", ISS[1]), "tle[0]"),  # wrong checksum
        ((ISS[0], ISS[1][:60]), "tle[1]"),  # truncated
        ((ISS[1], ISS[0]), "tle[0]"),  # swapped lines
        ((ISS[0], 17), "tle[1]"),  # not a string
    ],
)
def test_malformed_tle_is_an_input_error(bad, field):
    with pytest.raises(InputError) as err:
        parse_tle(*bad)
    assert err.value.field == field


def test_garbage_elements_with_a_valid_checksum_are_rejected():
    body = ISS[1][:8] + "  xx.xxx" + ISS[1][16:68]
    with pytest.raises(InputError, match="unparseable"):
        parse_tle(ISS[0], body + str(tle_checksum(body)))


def test_plane_layout_spreads_satellites_evenly():
    plane, slot, size = plane_layout(7, 3)
    assert plane.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert slot.tolist() == [0, 1, 2, 0, 1, 0, 1]
    assert size.tolist() == [3, 3, 3, 2, 2, 2, 2]


def test_walker_elements():
    tles = walker_tles(WalkerSpec(6, 2, 60.0, 1, 500, 700, raan0_deg=10.0), EPOCH)
    sats = [parse_tle(*t) for t in tles]
    raan = [round(math.degrees(s.nodeo), 4) for s in sats]
    ma = [round(math.degrees(s.mo), 4) for s in sats]
    assert raan == [10.0] * 3 + [190.0] * 3
    # in-plane spacing 360/3; plane 1 shifted by F*360/T = 60 degrees
    assert ma == [0.0, 120.0, 240.0, 60.0, 180.0, 300.0]
    rev = [s.no_kozai * 1440 / (2 * math.pi) for s in sats]
    assert rev[0] == pytest.approx(mean_motion_rev_per_day(500))
    assert rev[3] == pytest.approx(mean_motion_rev_per_day(700))


def test_geodetic_to_ecef_equator_and_pole():
    pos, up = geodetic_to_ecef(np.array([0.0, 90.0]), np.array([0.0, 0.0]), np.array([0.0, 1000.0]))
    assert pos[0] == pytest.approx([R_EARTH_KM, 0, 0])
    assert pos[1][2] == pytest.approx(6356.752 + 1.0, abs=1e-3)  # polar radius + 1 km
    assert up[1] == pytest.approx([0, 0, 1], abs=1e-12)


def test_look_angles_zenith_horizon_and_45_degrees():
    st = np.array([[R_EARTH_KM, 0.0, 0.0]])
    up = np.array([[1.0, 0.0, 0.0]])
    h = 550.0
    sats = np.array(
        [
            [R_EARTH_KM + h, 0.0, 0.0],  # zenith: range = altitude, elevation 90
            [R_EARTH_KM, 2000.0, 0.0],  # on the local horizontal plane: elevation 0, range 2000
            [R_EARTH_KM + 300.0, 0.0, 300.0],  # 300 up and 300 north: 45 degrees, 300*sqrt(2)
            [R_EARTH_KM - 100.0, 100.0, 0.0],  # below the horizon: -45 degrees
        ]
    )
    rng, el = look_angles(sats, st, up)
    assert rng[:, 0] == pytest.approx([h, 2000.0, 300 * math.sqrt(2), 100 * math.sqrt(2)])
    assert el[:, 0] == pytest.approx([90.0, 0.0, 45.0, -45.0])


def test_look_angles_slant_range_matches_the_law_of_cosines():
    # satellite at altitude h seen at geocentric angle theta: d^2 = R^2 + (R+h)^2 - 2R(R+h)cos(theta)
    th, h = math.radians(10.0), 600.0
    r = R_EARTH_KM + h
    sat = np.array([[r * math.cos(th), r * math.sin(th), 0.0]])
    rng, el = look_angles(sat, np.array([[R_EARTH_KM, 0, 0]]), np.array([[1.0, 0, 0]]))
    d = math.sqrt(R_EARTH_KM**2 + r**2 - 2 * R_EARTH_KM * r * math.cos(th))
    assert rng[0, 0] == pytest.approx(d)
    # elevation from the same triangle: cos(el) = r sin(theta) / d
    assert el[0, 0] == pytest.approx(math.degrees(math.acos(r * math.sin(th) / d)))


def _walker(n=4, planes=2):
    raan0 = aligned_raan_deg(EPOCH, 40.45, 116.86, 53.0, 500.0)
    return walker_tles(WalkerSpec(n, planes, 53.0, 1, 500, 700, raan0_deg=raan0), EPOCH)


def test_contact_windows_match_skyfield_find_events():
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    tles = _walker()
    mine = contact_windows([parse_tle(*t) for t in tles], MIYUN, EPOCH, 43200.0)
    t0, t1 = ts.utc(2024, 1, 1), ts.utc(2024, 1, 1, 12)
    topos = wgs84.latlon(40.45, 116.86, elevation_m=100.0)
    checked = 0
    for k, (l1, l2) in enumerate(tles):
        t, ev = EarthSatellite(l1, l2, ts=ts).find_events(topos, t0, t1, altitude_degrees=10.0)
        secs = (t - t0) * 86400.0
        rises, sets = secs[ev == 0], secs[ev == 2]
        sel = mine.sat == k
        assert len(rises) == len(sets) == int(sel.sum()) > 0
        assert np.abs(mine.start_s[sel] - rises).max() < 2.0
        assert np.abs(mine.end_s[sel] - sets).max() < 2.0
        checked += len(rises)
    assert checked >= 4


def test_aligned_raan_gives_a_pass_in_the_first_orbit():
    w = contact_windows([parse_tle(*_walker(1, 1)[0])], MIYUN, EPOCH, orbital_period_s(500))
    assert len(w.sat) == 1 and 0 < w.start_s[0] < w.end_s[0] < orbital_period_s(500)


def test_vectorised_and_loop_windows_agree_to_the_grid_step():
    tles = _walker()
    sats = [parse_tle(*t) for t in tles]
    vec = contact_windows(sats, MIYUN, EPOCH, 7200.0, step_s=30.0)
    loop = contact_windows_loop(sats, MIYUN, EPOCH, 7200.0, step_s=30.0)
    assert len(loop) == len(vec.sat) > 0
    for (k, _g, a, b), k2, a2, b2 in zip(loop, vec.sat, vec.start_s, vec.end_s):
        assert k == k2 and a - 30.0 <= a2 <= a and b - 30.0 <= b2 <= b


def test_window_open_at_both_ends_is_clipped():
    tles = _walker(1, 1)
    w = contact_windows([parse_tle(*tles[0])], MIYUN, EPOCH, 700.0)
    full = contact_windows([parse_tle(*tles[0])], MIYUN, EPOCH, 3000.0)
    assert w.start_s[0] == pytest.approx(full.start_s[0], abs=0.05)
    assert w.end_s[0] == 700.0
