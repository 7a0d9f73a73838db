"""Consistency of a loaded leo-inference instance: its parts must agree with each other, not only each
with its own bounds.

- Contact windows are recomputed from the TLEs and stations (SGP4, the generator's grid step ``window_step_s``)
  and must match the given ones pair by pair: the same number of windows per (satellite, station) and every
  edge within ``WINDOW_TOL_S``. Generated windows are refined to 0.01 s and written to 1 ms, so a mismatch
  beyond a second means the windows (or the TLEs) were edited or swapped between satellites.
- Windows are sorted by (satellite, station, start) and do not overlap within a pair (no duplicates).
- Tasks are sorted by arrival (the loader does not re-sort them silently).
Each failure is one InputError naming the field, and for windows the satellite and the station.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sgp4.api import Satrec

from offloadlab.core.errors import InputError
from offloadlab.physics.orbits import Stations, Windows, contact_windows

WINDOW_TOL_S = 1.0  # largest accepted difference between a given and a recomputed window edge, seconds


def check_window_order(windows: Windows) -> None:
    """Windows sorted by (satellite, station, start) and not overlapping within a pair."""
    key = np.stack([windows.sat, windows.station, windows.start_s], axis=1)
    for w in range(1, key.shape[0]):
        prev, cur = tuple(key[w - 1]), tuple(key[w])
        if cur < prev:
            raise InputError(f"contact_windows[{w}]", "windows must be sorted by (sat, station, start_s)")
        if cur[:2] == prev[:2] and windows.start_s[w] < windows.end_s[w - 1]:
            raise InputError(
                f"contact_windows[{w}]",
                f"duplicates or overlaps window {w - 1} of satellite {int(cur[0])} and station {int(cur[1])}",
            )


def check_windows_match_orbits(
    windows: Windows,
    satrecs: list[Satrec],
    stations: Stations,
    station_names: list[str],
    epoch: datetime,
    horizon_s: float,
    step_s: float,
) -> None:
    """The given windows agree with the ones the TLEs give (count per pair, edges within ``WINDOW_TOL_S``)."""
    ref = contact_windows(satrecs, stations, epoch, horizon_s, step_s)
    for k in range(len(satrecs)):
        for g, name in enumerate(station_names):
            given = (windows.sat == k) & (windows.station == g)
            calc = (ref.sat == k) & (ref.station == g)
            where = f"contact_windows (satellite {k}, station {name})"
            if given.sum() != calc.sum():
                raise InputError(where, f"{int(given.sum())} windows given, the TLEs give {int(calc.sum())}")
            a, b = windows.start_s[given], windows.end_s[given]
            ra, rb = ref.start_s[calc], ref.end_s[calc]
            diff = np.maximum(np.abs(a - ra), np.abs(b - rb))
            if diff.size and diff.max() > WINDOW_TOL_S:
                j = int(np.argmax(diff))
                raise InputError(
                    where,
                    f"window [{a[j]:.3f}, {b[j]:.3f}] s differs from the TLEs' [{ra[j]:.3f}, {rb[j]:.3f}] s "
                    f"by more than {WINDOW_TOL_S:g} s",
                )


def check_tasks_sorted(arrival_s: np.ndarray) -> None:
    """Task arrivals non-decreasing."""
    bad = np.flatnonzero(np.diff(arrival_s) < 0)
    if bad.size:
        n = int(bad[0]) + 1
        raise InputError(f"tasks.arrival_s[{n}]", f"arrives before task {n - 1}: tasks must be sorted by arrival")
