"""Parameters of satellite-mec at constellation scale: the radio and task settings of seed 000 plus
the constellation (Walker shells or a TLE file), the epoch and the terminals' region.

Numbers of the ``starlink`` preset: SpaceX's FCC filing for its first-generation system
(SAT-MOD-20200417-00037, granted in FCC 21-48, April 2021), shell 1: 72 planes of 22 satellites
at 550 km and 53.0 deg inclination, minimum elevation 25 deg (M = 1,584). ``starlink-gen1`` adds
the filing's four other shells (540 km / 53.2 deg, 72 x 22; 570 km / 70 deg, 36 x 20;
560 km / 97.6 deg, 6 x 58 and 4 x 43: M = 4,408). The filing gives no Walker phasing; F = 1 is
a choice. Other sizes: ``--planes P --per-plane S`` (e.g. 100 x 60 = 6,000 satellites at the
shell-1 orbit) or ``--tle_file FILE`` with the user's own two-line elements.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from offloadlab.core.config import StrictModel
from offloadlab.core.config import preset_params as core_preset_params
from offloadlab.core.io import read_text
from offloadlab.scenarios.satellite_mec.params import SatMecParams

MAX_SATELLITES = 100_000
# Peak bytes, measured with tracemalloc on (1,584 .. 6,000) x (1,000 .. 100,000) x 16 instances and
# rounded up (benchmarks/bench_constellation.py prints measured next to estimated): per pair and
# sub-channel the float32 fading, the float64 gain and the evaluation's blocked temporaries; per
# pair its indices, range, elevation and the generator's candidates and sort keys; per terminal and
# sub-channel a decision's power and its signal, SINR and received-power arrays.
BYTES_PER_PAIR_CHANNEL = 16
BYTES_PER_PAIR = 120
BYTES_PER_TERMINAL_CHANNEL = 64
BYTES_PER_TERMINAL = 256
# Expected visible satellites of a terminal are the constellation's share of the e_min cap, times this
# factor for the bunching of inclined orbits near the latitude of their inclination (measured at most
# 2.6 on the presets at any latitude), plus a floor for small constellations.
LATITUDE_BUNCHING = 4.0
PAIRS_FLOOR = 8


class Shell(StrictModel):
    """One Walker-delta shell: ``planes`` x ``per_plane`` satellites on circular orbits."""

    planes: int = Field(ge=1, le=1000, description="orbital planes")
    per_plane: int = Field(ge=1, le=1000, description="satellites per plane")
    altitude_km: float = Field(ge=150, le=40_000, description="orbit altitude")
    inclination_deg: float = Field(ge=0, le=180, description="orbit inclination")
    phasing: int = Field(0, ge=0, le=1000, description="Walker phasing F")


class ScaleParams(SatMecParams):
    """Seed 000's settings (M is the number of satellites of the constellation) plus the constellation,
    the epoch and the terminals' region. The primary shell reuses ``altitude_m``."""

    M: int = Field(1584, ge=1, le=MAX_SATELLITES, description="satellites (set by the constellation)")
    planes: int = Field(72, ge=1, le=1000, description="orbital planes of the primary shell")
    per_plane: int = Field(22, ge=1, le=1000, description="satellites per plane of the primary shell")
    inclination_deg: float = Field(53.0, ge=0, le=180, description="inclination of the primary shell")
    phasing: int = Field(1, ge=0, le=1000, description="Walker phasing F of the primary shell")
    extra_shells: list[Shell] = Field(default_factory=list, max_length=16, description="further shells")
    tle_file: str | None = Field(None, max_length=4096, description="two-line elements instead of the shells")
    epoch_utc: str = Field("2026-01-01T00:00:00Z", max_length=40, description="ISO-8601 epoch of the shells")
    time_offset_s: float = Field(0.0, ge=0, le=3.2e7, description="seconds after the epoch (at most a year)")
    lat_min_deg: float = Field(25.0, ge=-90, le=90, description="southern edge of the terminals' region")
    lat_max_deg: float = Field(49.0, ge=-90, le=90, description="northern edge of the terminals' region")
    lon_min_deg: float = Field(-125.0, ge=-180, le=180, description="western edge of the terminals' region")
    lon_max_deg: float = Field(-67.0, ge=-180, le=180, description="eastern edge of the terminals' region")
    layout: Literal["uniform", "clustered"] = Field("uniform", description="terminal placement over the region")
    clusters: int = Field(20, ge=1, le=100_000, description="cluster centres (layout 'clustered')")
    cluster_km: float = Field(50.0, gt=0, le=5000, description="standard deviation of a cluster (km)")

    @model_validator(mode="before")
    @classmethod
    def _satellite_count(cls, data: Any) -> Any:
        """M follows from the constellation when not given (the TLE file's pairs, or the shells')."""
        if not isinstance(data, dict) or "M" in data:
            return data
        if data.get("tle_file"):
            return {**data, "M": len(read_tle_file(data["tle_file"]))}
        shells = [data, *(s for s in data.get("extra_shells", ()) if isinstance(s, dict))]
        # wrong types are left for the field validators to name
        total = sum(_count(s.get("planes", 72)) * _count(s.get("per_plane", 22)) for s in shells)
        return {**data, "M": total}

    @field_validator("epoch_utc")
    @classmethod
    def _iso_epoch(cls, value: str) -> str:
        datetime.fromisoformat(value.replace("Z", "+00:00"))  # a ValueError names the field
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ScaleParams:
        if self.lat_max_deg < self.lat_min_deg or self.lon_max_deg < self.lon_min_deg:
            raise ValueError("the region's max latitude/longitude must be >= its min")
        if self.tle_file is None and self.M != self.shell_satellites():
            raise ValueError(f"M ({self.M}) must equal the shells' satellites ({self.shell_satellites()}); omit M")
        return self

    def shells(self) -> tuple[Shell, ...]:
        """The primary shell followed by the extra ones."""
        primary = Shell(
            planes=self.planes,
            per_plane=self.per_plane,
            altitude_km=self.altitude_m / 1000.0,
            inclination_deg=self.inclination_deg,
            phasing=self.phasing,
        )
        return (primary, *self.extra_shells)

    def shell_satellites(self) -> int:
        """Satellites of the shells."""
        return sum(s.planes * s.per_plane for s in self.shells())

    def expected_pairs(self) -> int:
        """An upper estimate of the visible (satellite, terminal) pairs, before any geometry is computed."""
        top_km = max([s.altitude_km for s in self.shells()] + [2000.0 if self.tle_file else 0.0])
        r, rs = 6356.752, 6378.137 + top_km  # polar ground radius, equatorial orbit radius: the widest cap
        e = math.radians(max(self.e_min_deg - 0.2, 0.0))
        theta = math.acos(r / rs * math.cos(e)) - e  # geocentric angle of the e_min cap, eq. (2)
        share = (1.0 - math.cos(theta)) / 2.0
        return self.N * min(self.M, math.ceil(LATITUDE_BUNCHING * share * self.M) + PAIRS_FLOOR)

    def estimate_bytes(self, batch: int = 1, pairs: int | None = None) -> int:
        """Peak bytes of a sparse instance (``pairs`` visible pairs, else the estimate) while ``batch``
        decisions are evaluated at once."""
        P = self.expected_pairs() if pairs is None else pairs
        N, I = self.N, self.I
        instance = P * (BYTES_PER_PAIR_CHANNEL * I + BYTES_PER_PAIR) + N * BYTES_PER_TERMINAL + 400 * self.M
        return instance + batch * N * BYTES_PER_TERMINAL_CHANNEL * I


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def read_tle_file(path: str) -> list[tuple[str, str]]:
    """The (line 1, line 2) pairs of a TLE file (optional name lines, 3LE, are skipped)."""
    lines = [ln.rstrip() for ln in read_text(path, "params.tle_file").splitlines() if ln.strip()]
    ones = [i for i, ln in enumerate(lines) if ln.startswith("1 ")]
    return [(lines[i], lines[i + 1]) for i in ones if i + 1 < len(lines) and lines[i + 1].startswith("2 ")]


_STARLINK_SHELL1 = {"planes": 72, "per_plane": 22, "altitude_m": 5.5e5, "inclination_deg": 53.0, "e_min_deg": 25.0}
SCALE_PRESETS: dict[str, dict[str, Any]] = {
    # seed 000's radio settings (the calibrated 0.2 W) over Starlink's shell 1; 16 sub-channels
    "starlink": {**_STARLINK_SHELL1, "p_max_w": 0.2, "I": 16, "N": 10_000},
    "starlink-gen1": {
        **_STARLINK_SHELL1,
        "p_max_w": 0.2,
        "I": 16,
        "N": 10_000,
        "extra_shells": (
            {"planes": 72, "per_plane": 22, "altitude_km": 540.0, "inclination_deg": 53.2, "phasing": 1},
            {"planes": 36, "per_plane": 20, "altitude_km": 570.0, "inclination_deg": 70.0, "phasing": 1},
            {"planes": 6, "per_plane": 58, "altitude_km": 560.0, "inclination_deg": 97.6, "phasing": 1},
            {"planes": 4, "per_plane": 43, "altitude_km": 560.0, "inclination_deg": 97.6, "phasing": 1},
        ),
    },
}


def scale_params(preset: str, **overrides: Any) -> ScaleParams:
    """Validated constellation-scale parameters of a preset with overrides."""
    return core_preset_params(ScaleParams, SCALE_PRESETS, preset, overrides)
