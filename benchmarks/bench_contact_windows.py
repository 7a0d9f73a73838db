"""Contact windows: vectorised (all satellites x stations x times in one array pass, bisection-refined edges)
versus a per-pair, per-time Python loop, and the 1,000-satellite x 10-station run over one orbital period.

Run: .venv/bin/python benchmarks/bench_contact_windows.py [--small-sats 20] [--big-sats 1000]
Prints measured figures; ratios are what to compare across machines, not absolute times.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from datetime import UTC, datetime

import numpy as np

from offloadlab.physics.orbits import (
    Stations,
    WalkerSpec,
    contact_windows,
    contact_windows_loop,
    orbital_period_s,
    parse_tle,
    walker_tles,
)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
# (name, lat, lon): Chinese and international ground stations (approximate public coordinates)
STATIONS = [
    ("Miyun", 40.45, 116.86),
    ("Kashi", 39.50, 75.93),
    ("Sanya", 18.31, 109.31),
    ("Svalbard", 78.23, 15.39),
    ("Kiruna", 67.86, 20.96),
    ("Fairbanks", 64.86, -147.85),
    ("Santiago", -33.15, -70.67),
    ("Hartebeesthoek", -25.89, 27.69),
    ("Perth", -31.80, 115.89),
    ("Wallops", 37.94, -75.46),
]


def stations(n: int) -> Stations:
    """The first ``n`` stations, 10 degrees minimum elevation, sea level."""
    lat = np.array([s[1] for s in STATIONS[:n]])
    lon = np.array([s[2] for s in STATIONS[:n]])
    return Stations(lat, lon, np.zeros(n), np.full(n, 10.0))


def constellation(n: int, planes: int) -> list:
    """A Walker constellation at 550 km, 53 degrees."""
    return [parse_tle(*t) for t in walker_tles(WalkerSpec(n, planes, 53.0, 1, 550.0, 550.0), EPOCH)]


def main() -> None:
    """Run both measurements and print them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--small-sats", type=int, default=20)
    ap.add_argument("--small-hours", type=float, default=2.0)
    ap.add_argument("--big-sats", type=int, default=1000)
    ap.add_argument("--step", type=float, default=10.0)
    a = ap.parse_args()

    sats, st = constellation(a.small_sats, 4), stations(3)
    dur = a.small_hours * 3600
    t0 = time.perf_counter()
    vec = contact_windows(sats, st, EPOCH, dur, a.step)
    t_vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = contact_windows_loop(sats, st, EPOCH, dur, a.step)
    t_loop = time.perf_counter() - t0
    print(
        f"small: {a.small_sats} satellites x 3 stations x {dur / a.step:.0f} steps of {a.step:g} s: "
        f"vectorised (with edge bisection) {t_vec:.3f} s, loop (grid edges only) {t_loop:.3f} s, "
        f"ratio {t_loop / t_vec:.0f}x; windows {len(vec.sat)} vs {len(loop)}"
    )

    sats, st = constellation(a.big_sats, max(1, a.big_sats // 25)), stations(10)
    period = orbital_period_s(550.0)
    tracemalloc.start()
    t0 = time.perf_counter()
    w = contact_windows(sats, st, EPOCH, period, a.step)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"big: {a.big_sats} satellites x 10 stations over one period ({period:.0f} s, {period / a.step:.0f} steps): "
        f"{wall:.2f} s wall, peak traced allocation {peak / 2**20:.0f} MiB, process max RSS {rss:.0f} MiB, "
        f"{len(w.sat)} windows, mean length {np.mean(w.end_s - w.start_s):.0f} s"
    )


if __name__ == "__main__":
    main()
