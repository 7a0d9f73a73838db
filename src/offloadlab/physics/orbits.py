"""Orbits: Walker-style TLE generation, SGP4 propagation (vectorised over satellites x times),
geodetic station geometry, slant range and elevation, and contact windows.

Distances are in km inside this module (SGP4's unit); times are seconds from an epoch.
Nothing is downloaded: TEME -> Earth-fixed uses the IAU-82 GMST with UT1 taken as UTC (the
<0.9 s difference moves a pass edge by well under a second), and polar motion is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray, jday

from offloadlab.core.errors import InputError

MU_EARTH_KM3_S2 = 398600.4418
R_EARTH_KM = 6378.137  # WGS84 equatorial radius
WGS84_F = 1.0 / 298.257223563
SECONDS_PER_DAY = 86400.0
SPEED_OF_LIGHT_KM_S = 299792.458


# ---------------------------------------------------------------- TLE text
def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of the first 68 columns of a TLE line (digits count, '-' counts 1)."""
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


def mean_motion_rev_per_day(altitude_km: float) -> float:
    """Two-body mean motion of a circular orbit at ``altitude_km`` above the equatorial radius."""
    a = R_EARTH_KM + altitude_km
    return math.sqrt(MU_EARTH_KM3_S2 / a**3) * SECONDS_PER_DAY / (2.0 * math.pi)


def orbital_period_s(altitude_km: float) -> float:
    """Two-body period of a circular orbit at ``altitude_km``."""
    return SECONDS_PER_DAY / mean_motion_rev_per_day(altitude_km)


def format_tle(
    satnum: int,
    epoch: datetime,
    inclination_deg: float,
    raan_deg: float,
    eccentricity: float,
    argp_deg: float,
    mean_anomaly_deg: float,
    mean_motion: float,
) -> tuple[str, str]:
    """Two TLE lines (69 columns each, valid checksums) for the given mean elements.

    ``mean_motion`` is in revolutions per day; drag terms are zero (a synthetic, drag-free orbit).
    """
    if not 0 <= satnum <= 99999:
        raise InputError("satnum", f"must be in [0, 99999], got {satnum}")
    ep = epoch.astimezone(UTC)
    start = datetime(ep.year, 1, 1, tzinfo=UTC)
    doy = 1.0 + (ep - start).total_seconds() / SECONDS_PER_DAY
    intl = f"{ep.year % 100:02d}{1 + satnum // 26 % 999:03d}{chr(65 + satnum % 26)}"
    body1 = f"1 {satnum:05d}U {intl:<8} {ep.year % 100:02d}{doy:012.8f}  .00000000  00000-0  00000-0 0  999"
    body2 = (
        f"2 {satnum:05d} {inclination_deg % 360:8.4f} {raan_deg % 360:8.4f} {round(eccentricity * 1e7):07d} "
        f"{argp_deg % 360:8.4f} {mean_anomaly_deg % 360:8.4f} {mean_motion:11.8f}    0"
    )
    return body1 + str(tle_checksum(body1)), body2 + str(tle_checksum(body2))


@dataclass(frozen=True)
class WalkerSpec:
    """A Walker-delta-like constellation: ``planes`` equally spaced RAANs, satellites spread as evenly as
    possible over them (plane sizes differ by at most one), phasing ``phasing`` (Walker F), and plane
    altitudes evenly spaced over [altitude_min_km, altitude_max_km] (one altitude per plane, so that
    same-plane neighbours keep their spacing)."""

    satellites: int
    planes: int
    inclination_deg: float
    phasing: int
    altitude_min_km: float
    altitude_max_km: float
    raan_spread_deg: float = 360.0
    raan0_deg: float = 0.0


def plane_layout(satellites: int, planes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plane index, slot within the plane and plane size of each satellite (contiguous blocks)."""
    planes = max(1, min(planes, satellites))
    sizes = np.full(planes, satellites // planes)
    sizes[: satellites % planes] += 1
    plane = np.repeat(np.arange(planes), sizes)
    slot = np.arange(satellites) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return plane, slot, sizes[plane]


def walker_tles(spec: WalkerSpec, epoch: datetime, first_satnum: int = 90000) -> list[tuple[str, str]]:
    """TLEs of a Walker-style constellation at ``epoch`` (circular orbits)."""
    plane, slot, size = plane_layout(spec.satellites, spec.planes)
    n_planes = int(plane.max()) + 1
    alts = (
        np.full(n_planes, 0.5 * (spec.altitude_min_km + spec.altitude_max_km))
        if n_planes == 1
        else np.linspace(spec.altitude_min_km, spec.altitude_max_km, n_planes)
    )
    out = []
    for k in range(spec.satellites):
        p, s = int(plane[k]), int(slot[k])
        raan = spec.raan0_deg + spec.raan_spread_deg * p / n_planes
        ma = 360.0 * s / size[k] + 360.0 * spec.phasing * p / spec.satellites
        out.append(
            format_tle(
                (first_satnum + k) % 100000,
                epoch,
                spec.inclination_deg,
                raan,
                0.0,
                0.0,
                ma,
                mean_motion_rev_per_day(float(alts[p])),
            )
        )
    return out


def aligned_raan_deg(
    epoch: datetime, lat_deg: float, lon_deg: float, inclination_deg: float, altitude_km: float
) -> float:
    """RAAN that makes a circular orbit starting at its ascending node at ``epoch`` pass over the point
    (lat, lon) on its first ascending pass (spherical Earth): the node's longitude offset to the point's
    latitude, less the Earth's rotation until then. For |lat| > inclination the nearest approach is used."""
    i = math.radians(inclination_deg)
    phi = math.radians(max(-inclination_deg, min(inclination_deg, lat_deg)))
    u = math.asin(max(-1.0, min(1.0, math.sin(phi) / math.sin(i))))  # argument of latitude at the point
    dlon = math.atan2(math.cos(i) * math.sin(u), math.cos(u))  # longitude east of the node
    t = u / (2.0 * math.pi) * orbital_period_s(altitude_km)
    jd, fr = epoch_jd(epoch)
    gmst = float(gmst_rad(np.array(jd + fr)))
    earth_rot = 2.0 * math.pi * 1.00273790935 / SECONDS_PER_DAY
    return math.degrees(gmst + math.radians(lon_deg) - dlon + earth_rot * t) % 360.0


def parse_tle(line1: object, line2: object, where: str = "tle") -> Satrec:
    """A validated SGP4 record; InputError naming ``where`` on any malformed line."""
    for n, line in ((1, line1), (2, line2)):
        name = f"{where}[{n - 1}]"
        if not isinstance(line, str):
            raise InputError(name, "must be a string (a TLE line)")
        if len(line) != 69:
            raise InputError(name, f"must have 69 columns, got {len(line)}")
        if not line.startswith(f"{n} "):
            raise InputError(name, f"must start with '{n} '")
        if not line[68].isdigit() or int(line[68]) != tle_checksum(line):
            raise InputError(name, f"checksum {line[68]!r} does not match {tle_checksum(line)}")
    assert isinstance(line1, str) and isinstance(line2, str)
    if line1[2:7] != line2[2:7]:
        raise InputError(where, f"satellite numbers differ ({line1[2:7]!r} vs {line2[2:7]!r})")
    try:
        for a, b in ((8, 16), (17, 25), (26, 33), (34, 42), (43, 51), (52, 63)):
            float(line2[a:b] if (a, b) != (26, 33) else "0." + line2[a:b])
        float(line1[18:32])
        sat = Satrec.twoline2rv(line1, line2, WGS72)
    except (ValueError, IndexError) as exc:
        raise InputError(where, f"unparseable elements ({exc})") from None
    if not 0 < sat.no_kozai < 1.0 or not 0 <= sat.ecco < 1:
        raise InputError(where, "mean motion or eccentricity outside a bound Earth orbit")
    return sat


# ---------------------------------------------------------------- time and frames
def epoch_jd(epoch: datetime) -> tuple[float, float]:
    """Julian date split (whole, fraction) of a UTC datetime, as SGP4 takes it."""
    ep = epoch.astimezone(UTC)
    return jday(ep.year, ep.month, ep.day, ep.hour, ep.minute, ep.second + ep.microsecond * 1e-6)


def gmst_rad(jd_ut1: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal angle (IAU-82, the same formula as SGP4's gstime), radians."""
    tut1 = (np.asarray(jd_ut1, dtype=float) - 2451545.0) / 36525.0
    sec = -6.2e-6 * tut1**3 + 0.093104 * tut1**2 + (876600.0 * 3600 + 8640184.812866) * tut1 + 67310.54841
    return np.mod(np.deg2rad(sec / 240.0), 2.0 * np.pi)


def teme_to_ecef(r_teme: np.ndarray, jd: np.ndarray) -> np.ndarray:
    """Rotate TEME positions [..., T, 3] into the Earth-fixed frame at Julian dates ``jd`` [T]."""
    g = gmst_rad(jd)
    c, s = np.cos(g), np.sin(g)
    x, y = r_teme[..., 0], r_teme[..., 1]
    return np.stack([c * x + s * y, -s * x + c * y, r_teme[..., 2]], axis=-1)


def propagate_ecef(sats: SatrecArray, jd0: float, fr0: float, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earth-fixed positions [K, T, 3] (km) of all satellites at seconds ``t_s`` [T] after (jd0, fr0),
    and a [K, T] mask of SGP4 errors (decayed or invalid states)."""
    t_s = np.asarray(t_s, dtype=float)
    jd = np.full(t_s.shape, jd0)
    fr = fr0 + t_s / SECONDS_PER_DAY
    err, r, _ = sats.sgp4(jd, fr)
    return teme_to_ecef(r, jd + fr), err != 0


def geodetic_to_ecef(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 Earth-fixed positions [G, 3] (km) and local up unit vectors [G, 3] of geodetic points."""
    lat, lon = np.deg2rad(np.asarray(lat_deg, float)), np.deg2rad(np.asarray(lon_deg, float))
    h = np.asarray(alt_m, float) / 1000.0
    e2 = WGS84_F * (2.0 - WGS84_F)
    n = R_EARTH_KM / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    pos = np.stack(
        [(n + h) * np.cos(lat) * np.cos(lon), (n + h) * np.cos(lat) * np.sin(lon), (n * (1.0 - e2) + h) * np.sin(lat)],
        axis=-1,
    )
    return pos, up


def look_angles(sat_ecef: np.ndarray, st_ecef: np.ndarray, st_up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Slant range (km) and elevation (deg) of satellites [..., 3] from stations [G, 3]: arrays [..., G].

    Uses |s - g|^2 = |s|^2 - 2 s.g + |g|^2 and s.up - g.up, so that the [..., G, 3] difference
    array is never built (memory stays at the size of the output).
    """
    s2 = np.einsum("...i,...i->...", sat_ecef, sat_ecef)[..., None]
    dist = np.sqrt(np.maximum(s2 - 2.0 * sat_ecef @ st_ecef.T + np.sum(st_ecef**2, axis=-1), 0.0))
    height = sat_ecef @ st_up.T - np.sum(st_ecef * st_up, axis=-1)
    el = np.rad2deg(np.arcsin(np.clip(height / np.where(dist > 0, dist, 1.0), -1.0, 1.0)))
    return dist, el


# ---------------------------------------------------------------- contact windows
@dataclass(frozen=True)
class Stations:
    """Ground stations: geodetic coordinates and minimum elevation, [G] arrays."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    min_elevation_deg: np.ndarray

    def ecef(self) -> tuple[np.ndarray, np.ndarray]:
        """Earth-fixed positions and up vectors."""
        return geodetic_to_ecef(self.lat_deg, self.lon_deg, self.alt_m)


@dataclass(frozen=True)
class Windows:
    """Contact windows as parallel arrays, sorted by satellite, station, start."""

    sat: np.ndarray
    station: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray

    def to_json(self) -> list[dict[str, float | int]]:
        """The instance contract's list of {"sat", "station", "start_s", "end_s"}."""
        return [
            {"sat": int(k), "station": int(g), "start_s": round(float(a), 3), "end_s": round(float(b), 3)}
            for k, g, a, b in zip(self.sat, self.station, self.start_s, self.end_s)
        ]


def elevation_grid(sats: SatrecArray, jd0: float, fr0: float, t_s: np.ndarray, stations: Stations) -> np.ndarray:
    """Elevation [K, G, T] (deg) of every satellite from every station at every time, in one array pass;
    -90 where SGP4 reports an error."""
    pos, bad = propagate_ecef(sats, jd0, fr0, t_s)
    st, up = stations.ecef()
    _, el = look_angles(pos, st, up)  # [K, T, G]
    el = np.where(bad[..., None], -90.0, el)
    return np.ascontiguousarray(np.moveaxis(el, -1, 1))


def _elevation_at(
    satrecs: list[Satrec],
    sat: np.ndarray,
    station: np.ndarray,
    t_s: np.ndarray,
    jd0: float,
    fr0: float,
    st: np.ndarray,
    up: np.ndarray,
) -> np.ndarray:
    """Elevation (deg) of satellite ``sat[c]`` from station ``station[c]`` at ``t_s[c]``, for C crossings.

    One SGP4 call per distinct satellite (each vectorised over that satellite's crossings; the crossings of
    different satellites happen at different times, so SatrecArray's satellites x times product would waste
    work), then one array pass for the frame rotation and the elevations.
    """
    jd = np.full(sat.shape, jd0)
    fr = fr0 + t_s / SECONDS_PER_DAY
    r_teme, err = np.empty(sat.shape + (3,)), np.empty(sat.shape)
    order = np.argsort(sat, kind="stable")
    uniq, first = np.unique(sat[order], return_index=True)
    for k, lo, hi in zip(uniq, first, np.append(first[1:], len(order))):
        idx = order[lo:hi]
        err[idx], r_teme[idx], _ = satrecs[int(k)].sgp4_array(jd[idx], fr[idx])
    rel = teme_to_ecef(r_teme, jd + fr) - st[station]
    el = np.rad2deg(np.arcsin(np.clip(np.sum(rel * up[station], -1) / np.linalg.norm(rel, axis=-1), -1, 1)))
    out = np.where(err != 0, -90.0, el)
    return out


def contact_windows(
    satrecs: list[Satrec],
    stations: Stations,
    epoch: datetime,
    duration_s: float,
    step_s: float = 10.0,
    tol_s: float = 0.01,
) -> Windows:
    """Visibility windows (elevation >= the station's minimum) of all satellite-station pairs over
    [0, duration_s] seconds from ``epoch``.

    Coarse pass: elevations of all satellites x stations x grid times in one array computation
    (SatrecArray). Edges: every sign change on the grid is refined by vectorised bisection to
    ``tol_s``. A pass shorter than ``step_s`` that starts and ends between two grid points is missed.
    Windows open at 0 or still open at ``duration_s`` are clipped there.
    """
    if duration_s <= 0 or step_s <= 0 or tol_s <= 0:
        raise InputError("contact_windows", "duration_s, step_s and tol_s must be positive")
    jd0, fr0 = epoch_jd(epoch)
    n = int(math.ceil(duration_s / step_s))
    t = np.minimum(np.arange(n + 1) * step_s, duration_s)
    above = elevation_grid(SatrecArray(satrecs), jd0, fr0, t, stations) >= stations.min_elevation_deg[None, :, None]
    rise = np.nonzero(~above[..., :-1] & above[..., 1:])
    fall = np.nonzero(above[..., :-1] & ~above[..., 1:])
    st, up = stations.ecef()
    min_el = stations.min_elevation_deg

    def refine(k: np.ndarray, g: np.ndarray, j: np.ndarray, rising: bool) -> np.ndarray:
        lo, hi = t[j].copy(), t[j + 1].copy()
        for _ in range(max(1, int(math.ceil(math.log2(step_s / tol_s))))):
            mid = 0.5 * (lo + hi)
            vis = _elevation_at(satrecs, k, g, mid, jd0, fr0, st, up) >= min_el[g]
            go_hi = vis if rising else ~vis  # the edge lies below mid
            hi, lo = np.where(go_hi, mid, hi), np.where(go_hi, lo, mid)
        return 0.5 * (lo + hi)

    k0, g0 = np.nonzero(above[..., 0])
    k1, g1 = np.nonzero(above[..., -1])
    starts = (
        np.concatenate([k0, rise[0]]),
        np.concatenate([g0, rise[1]]),
        np.concatenate([np.zeros(len(k0)), refine(rise[0], rise[1], rise[2], rising=True)]),
    )
    ends = (
        np.concatenate([fall[0], k1]),
        np.concatenate([fall[1], g1]),
        np.concatenate([refine(fall[0], fall[1], fall[2], rising=False), np.full(len(k1), float(duration_s))]),
    )
    # within a pair, starts and ends alternate, so sorting both by (sat, station, time) pairs them up
    so = np.lexsort((starts[2], starts[1], starts[0]))
    eo = np.lexsort((ends[2], ends[1], ends[0]))
    return Windows(starts[0][so], starts[1][so], starts[2][so], ends[2][eo])


def contact_windows_loop(
    satrecs: list[Satrec], stations: Stations, epoch: datetime, duration_s: float, step_s: float = 10.0
) -> list[tuple[int, int, float, float]]:
    """Reference loop for benchmarks: one SGP4 call per satellite and time, one look angle per station,
    edges at grid resolution (no refinement)."""
    jd0, fr0 = epoch_jd(epoch)
    st, up = stations.ecef()
    n = int(math.ceil(duration_s / step_s))
    out = []
    for k, sat in enumerate(satrecs):
        for g in range(len(st)):
            start = None
            for i in range(n + 1):
                ts = min(i * step_s, duration_s)
                fr = fr0 + ts / SECONDS_PER_DAY
                err, r, _ = sat.sgp4(jd0, fr)
                pos = teme_to_ecef(np.asarray(r)[None, :], np.array([jd0 + fr]))[0]
                _, el = look_angles(pos[None, :], st[g : g + 1], up[g : g + 1])
                vis = err == 0 and el[0, 0] >= stations.min_elevation_deg[g]
                if vis and start is None:
                    start = ts
                elif not vis and start is not None:
                    out.append((k, g, start, ts))
                    start = None
            if start is not None:
                out.append((k, g, start, float(duration_s)))
    return out


def isl_distance_km(pos: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Distance between satellites ``i`` and ``j`` given positions [K, ..., 3]."""
    return np.linalg.norm(pos[i] - pos[j], axis=-1)


def line_of_sight(pos_a: np.ndarray, pos_b: np.ndarray, grazing_km: float = 80.0) -> np.ndarray:
    """Whether the segment between two positions [..., 3] clears the Earth plus ``grazing_km``."""
    d = pos_b - pos_a
    tt = np.clip(-np.sum(pos_a * d, -1) / np.maximum(np.sum(d * d, -1), 1e-12), 0.0, 1.0)
    closest = pos_a + tt[..., None] * d
    return np.linalg.norm(closest, axis=-1) > R_EARTH_KM + grazing_km


def parse_epoch(text: object, where: str = "epoch_utc") -> datetime:
    """A timezone-aware UTC datetime from ISO-8601 text; InputError otherwise."""
    if not isinstance(text, str):
        raise InputError(where, "must be an ISO-8601 string")
    try:
        ep = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(where, f"not an ISO-8601 date-time: {text!r}") from None
    return ep.replace(tzinfo=UTC) if ep.tzinfo is None else ep.astimezone(UTC)
