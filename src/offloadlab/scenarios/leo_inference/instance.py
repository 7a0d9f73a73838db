"""Instances of leo-inference: generation from a preset and a seed, and strict loading of instance JSON.

Contract (docs/contracts.md): {"scenario", "params", "epoch_utc", "tle": [[l1, l2], ...],
"ground_stations": [{"name", "lat_deg", "lon_deg", "alt_m", "min_elevation_deg"}],
"contact_windows": [{"sat", "station", "start_s", "end_s"}], ...} with times in seconds from the epoch.
Further fields: "satellites" (plane, slot, processor, local_ms_per_image, local_accuracy), "tasks" (sat, arrival_s,
data_bits, slots: container slots each task needs) and "initial_queue" (tasks already on each container at time 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sgp4.api import Satrec

from offloadlab.core.config import instance_header, parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.resources import check_memory
from offloadlab.core.space import check_number
from offloadlab.physics.orbits import (
    Stations,
    WalkerSpec,
    Windows,
    aligned_raan_deg,
    contact_windows,
    parse_epoch,
    parse_tle,
    plane_layout,
    walker_tles,
)
from offloadlab.scenarios.leo_inference.consistency import (
    check_tasks_sorted,
    check_window_order,
    check_windows_match_orbits,
)
from offloadlab.scenarios.leo_inference.params import (
    ARRIVAL_LEVELS,
    KASHI,
    MAX_MS_PER_IMAGE,
    MIYUN,
    PRESET_STATIONS,
    SANYA,
    LeoParams,
    StationParams,
    preset_params,
)
from offloadlab.scenarios.leo_inference.variants import load_paper_tables, onboard_variant

SCENARIO_ID = "leo-inference"
KNOWN_STATIONS = {s["name"]: s for s in (MIYUN, KASHI, SANYA)}


@dataclass(frozen=True, eq=False)
class LeoInstance:
    """A validated instance: parameters, orbits, stations, windows, satellites and tasks."""

    params: LeoParams
    epoch: datetime
    tle: list[tuple[str, str]]
    satrecs: list[Satrec]
    station_names: list[str]
    stations: Stations
    windows: Windows
    plane: np.ndarray  # [K]
    slot: np.ndarray  # [K]
    processor: list[str]  # [K]
    local_ms_per_image: np.ndarray  # [K]
    local_accuracy: np.ndarray  # [K], top-1 accuracy a_i of each satellite's on-board model
    task_sat: np.ndarray  # [N]
    task_t: np.ndarray  # [N], seconds from the epoch, sorted
    task_bits: np.ndarray  # [N]
    task_slots: np.ndarray  # [N], container slots (cores) each task needs
    initial_queue: np.ndarray  # [O]

    @property
    def horizon_s(self) -> float:
        """Simulated horizon in seconds."""
        return self.params.hours * 3600.0

    @property
    def n_tasks(self) -> int:
        """Number of tasks N."""
        return int(self.task_t.size)

    @property
    def local_s(self) -> np.ndarray:
        """c(m_i) of each task: its images (u x images_per_task) on its satellite's processor, seconds [N]."""
        return self.params.images_per_task * self.task_slots * self.local_ms_per_image[self.task_sat] / 1000.0

    @property
    def task_local_accuracy(self) -> np.ndarray:
        """a_i of each task: the accuracy of its satellite's on-board model [N]."""
        return self.local_accuracy[self.task_sat]

    def to_json(self) -> dict[str, Any]:
        """The instance contract's JSON object."""
        p = self.params
        return {
            "scenario": SCENARIO_ID,
            "params": p.model_dump(mode="json"),
            "epoch_utc": p.epoch_utc,
            "tle": [list(t) for t in self.tle],
            "ground_stations": [
                {"name": n, "lat_deg": float(a), "lon_deg": float(b), "alt_m": float(c), "min_elevation_deg": float(d)}
                for n, a, b, c, d in zip(
                    self.station_names,
                    self.stations.lat_deg,
                    self.stations.lon_deg,
                    self.stations.alt_m,
                    self.stations.min_elevation_deg,
                )
            ],
            "contact_windows": self.windows.to_json(),
            "satellites": [
                {
                    "plane": int(a),
                    "slot": int(b),
                    "processor": c,
                    "local_ms_per_image": float(d),
                    "local_accuracy": float(e),
                }
                for a, b, c, d, e in zip(
                    self.plane, self.slot, self.processor, self.local_ms_per_image, self.local_accuracy
                )
            ],
            "tasks": {
                "sat": self.task_sat.tolist(),
                "arrival_s": np.round(self.task_t, 6).tolist(),
                "data_bits": np.round(self.task_bits).tolist(),
                "slots": self.task_slots.tolist(),
            },
            "initial_queue": self.initial_queue.tolist(),
        }


# ---------------------------------------------------------------- generation
def resolve_stations(names: object) -> list[dict[str, Any]]:
    """Station objects for known names (a list, or comma-separated text from the CLI); InputError naming an
    unknown one."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not isinstance(names, (list, tuple)) or not names:
        raise InputError("stations", "must be a non-empty list of station names")
    out = []
    for n in names:
        if n not in KNOWN_STATIONS:
            raise InputError("stations", f"unknown station {n!r} (known: {', '.join(map(str, KNOWN_STATIONS))})")
        out.append(dict(KNOWN_STATIONS[n]))
    return out


def generate_arrivals(params: LeoParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Seeded task arrivals (satellite, time) over the horizon, sorted by time.

    Each satellite draws its mean inter-arrival time uniformly from the level's range (light 5-10 s,
    normal 2 s, heavy 1 s); inter-arrival times are exponential ('poisson') or constant with a random
    phase ('periodic'). The law is ours: the paper gives only the mean rates.
    """
    lo, hi = ARRIVAL_LEVELS[params.arrivals]
    k, horizon = params.satellites, params.hours * 3600.0
    mean = rng.uniform(lo, hi, size=k)
    n_max = int(math.ceil(horizon / mean.min() * 1.5 + 20))
    if params.arrival_process == "poisson":
        gaps = rng.exponential(mean[:, None], size=(k, n_max))
        times = np.cumsum(gaps, axis=1)
    else:
        times = rng.uniform(0, mean)[:, None] + mean[:, None] * np.arange(n_max)[None, :]
    sat = np.broadcast_to(np.arange(k)[:, None], times.shape)
    keep = times < horizon
    t, s = times[keep], sat[keep]
    order = np.argsort(t, kind="stable")
    return s[order].astype(int), t[order]


def generate_instance(params: LeoParams, stations: list[dict[str, Any]], seed: int) -> LeoInstance:
    """Build an instance: Walker TLEs, SGP4 contact windows, processors and seeded tasks."""
    rng = np.random.default_rng(seed)
    epoch = parse_epoch(params.epoch_utc, "params.epoch_utc")
    st = [parse_model(StationParams, s, f"ground_stations[{i}]") for i, s in enumerate(stations)]
    # the contact-window search grows with the stations, which the parameters alone do not give
    check_memory("params", params.estimate_bytes(stations=len(st)), "an instance of these parameters")
    raan0 = params.raan0_deg
    if raan0 is None:
        raan0 = aligned_raan_deg(epoch, st[0].lat_deg, st[0].lon_deg, params.inclination_deg, params.altitude_min_km)
    spec = WalkerSpec(
        params.satellites,
        params.planes,
        params.inclination_deg,
        params.phasing,
        params.altitude_min_km,
        params.altitude_max_km,
        raan0_deg=raan0,
    )
    tle = walker_tles(spec, epoch)
    satrecs = [parse_tle(*t) for t in tle]
    stations_arr = _stations_array(st)
    windows = contact_windows(satrecs, stations_arr, epoch, params.hours * 3600.0, params.window_step_s)
    plane, slot, _ = plane_layout(params.satellites, params.planes)
    # processors assigned cyclically over Tables II-III's list (ours), so every run has the same mix; each
    # runs the family's original model or the variant adaptive modelling selected for it (``local_model``)
    names = load_paper_tables().processors
    proc = [names[i % len(names)] for i in range(params.satellites)]
    variant = np.array([onboard_variant(params.model_family, n, params.local_model == "adapted") for n in proc])
    ms, acc = variant[:, 0], variant[:, 1]
    sat, t = generate_arrivals(params, rng)
    img_bits = rng.uniform(params.image_kb_min, params.image_kb_max, size=t.size) * 8000.0
    # drawn only when tasks differ, so that instances of unit tasks keep their seeds' streams
    units = rng.integers(1, params.task_slots_max + 1, t.size) if params.task_slots_max > 1 else np.ones(t.size, int)
    return LeoInstance(
        params,
        epoch,
        [(a, b) for a, b in tle],
        satrecs,
        [s.name for s in st],
        stations_arr,
        windows,
        plane,
        slot,
        proc,
        ms,
        acc,
        sat,
        t,
        np.round(img_bits * params.images_per_task * units),
        units,
        np.zeros(params.containers, dtype=int),
    )


def make_instance_json(seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """A JSON-ready instance from a preset, overrides (``stations=[names]`` picks known stations) and a seed."""
    stations = resolve_stations(overrides.pop("stations")) if "stations" in overrides else None
    params = preset_params(preset, **overrides)
    if stations is None:
        stations = [dict(s) for s in PRESET_STATIONS[preset]]
    return generate_instance(params, stations, seed).to_json()


# ---------------------------------------------------------------- strict loading
def _stations_array(st: list[StationParams]) -> Stations:
    return Stations(
        np.array([s.lat_deg for s in st]),
        np.array([s.lon_deg for s in st]),
        np.array([s.alt_m for s in st]),
        np.array([s.min_elevation_deg for s in st]),
    )


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise InputError(f"{where}{key}", "missing")
    val = data[key]
    if not isinstance(val, kind) or isinstance(val, bool) and kind is not bool:
        raise InputError(f"{where}{key}", f"wrong type {type(val).__name__}")
    return val


def _int_list(values: Any, name: str, low: int, high: int) -> np.ndarray:
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise InputError(name, "must be a list of integers")
    # range checked on the Python integers: an out-of-range one (10**30) must not reach numpy's C long
    if any(not low <= v <= high for v in values):
        raise InputError(name, f"values must lie in [{low}, {high}]")
    return np.asarray(values, dtype=int).reshape(-1)


def _float_list(values: Any, name: str, low: float, high: float) -> np.ndarray:
    if not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise InputError(name, "must be a list of numbers")
    arr = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "contains NaN or infinite values")
    if arr.size and (arr.min() < low or arr.max() > high):
        raise InputError(name, f"values must lie in [{low:g}, {high:g}]")
    return arr


# The instance's top-level fields (besides "scenario"): all required, no other allowed.
TOP_LEVEL = ("params", "epoch_utc", "tle", "ground_stations", "contact_windows", "satellites", "tasks", "initial_queue")


def load_instance(data: Mapping[str, Any]) -> LeoInstance:
    """Validate instance JSON; every field is required and checked (InputError names the field)."""
    instance_header(data, SCENARIO_ID, TOP_LEVEL, ())
    raw = _require(data, "params", Mapping, "")
    missing = [k for k in LeoParams.model_fields if k not in raw]
    if missing:
        raise InputError(f"params.{missing[0]}", "missing")
    params = parse_model(LeoParams, raw, "params")
    epoch = parse_epoch(_require(data, "epoch_utc", str, ""), "epoch_utc")
    if epoch != parse_epoch(params.epoch_utc, "params.epoch_utc"):
        raise InputError("epoch_utc", f"differs from params.epoch_utc ({params.epoch_utc})")
    tle_raw = _require(data, "tle", list, "")
    if len(tle_raw) != params.satellites:
        raise InputError("tle", f"has {len(tle_raw)} entries, params.satellites is {params.satellites}")
    tle, satrecs = [], []
    for k, pair in enumerate(tle_raw):
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError(f"tle[{k}]", "must be a pair [line1, line2]")
        satrecs.append(parse_tle(pair[0], pair[1], f"tle[{k}]"))
        tle.append((pair[0], pair[1]))
    st_raw = _require(data, "ground_stations", list, "")
    if not st_raw:
        raise InputError("ground_stations", "must list at least one station")
    st = []
    for g, s in enumerate(st_raw):
        where = f"ground_stations[{g}]"
        if not isinstance(s, Mapping):
            raise InputError(where, "expected a JSON object")
        for key in StationParams.model_fields:
            if key not in s:
                raise InputError(f"{where}.{key}", "missing")
        st.append(parse_model(StationParams, s, where))
    check_memory("params", params.estimate_bytes(stations=len(st)), "an instance of these parameters")
    horizon = params.hours * 3600.0
    n_k, n_g = params.satellites, len(st)
    wins = _require(data, "contact_windows", list, "")
    cols: dict[str, list[Any]] = {"sat": [], "station": [], "start_s": [], "end_s": []}
    for w, item in enumerate(wins):
        where = f"contact_windows[{w}]"
        if not isinstance(item, Mapping):
            raise InputError(where, "expected a JSON object")
        sat = _require(item, "sat", int, where + ".")
        gs = _require(item, "station", int, where + ".")
        if not 0 <= sat < n_k:
            raise InputError(f"{where}.sat", f"unknown satellite {sat} (0..{n_k - 1})")
        if not 0 <= gs < n_g:
            raise InputError(f"{where}.station", f"unknown station {gs} (0..{n_g - 1})")
        a = check_number(item.get("start_s"), f"{where}.start_s", low=0.0, high=horizon)
        b = check_number(item.get("end_s"), f"{where}.end_s", low=a, high=horizon)
        for key, v in (("sat", sat), ("station", gs), ("start_s", a), ("end_s", b)):
            cols[key].append(v)
    windows = Windows(
        np.asarray(cols["sat"], int),
        np.asarray(cols["station"], int),
        np.asarray(cols["start_s"], float),
        np.asarray(cols["end_s"], float),
    )
    check_window_order(windows)
    station_names = [s.name for s in st]
    check_windows_match_orbits(
        windows, satrecs, _stations_array(st), station_names, epoch, horizon, params.window_step_s
    )
    sats = _require(data, "satellites", list, "")
    if len(sats) != n_k:
        raise InputError("satellites", f"has {len(sats)} entries, expected {n_k}")
    plane_ref, slot_ref, _ = plane_layout(n_k, params.planes)
    proc, ms, acc = [], [], []
    for k, s in enumerate(sats):
        where = f"satellites[{k}]"
        if not isinstance(s, Mapping):
            raise InputError(where, "expected a JSON object")
        layout = (_require(s, "plane", int, where + "."), _require(s, "slot", int, where + "."))
        if layout != (plane_ref[k], slot_ref[k]):
            raise InputError(where, f"plane/slot differ from the Walker layout ({plane_ref[k]}, {slot_ref[k]})")
        proc.append(_require(s, "processor", str, where + "."))
        ms.append(
            check_number(
                s.get("local_ms_per_image"),
                f"{where}.local_ms_per_image",
                low=0.0,
                high=MAX_MS_PER_IMAGE,
                low_open=True,
            )
        )
        acc.append(check_number(s.get("local_accuracy"), f"{where}.local_accuracy", low=0.0, high=1.0))
    tasks = _require(data, "tasks", Mapping, "")
    t_sat = _int_list(_require(tasks, "sat", list, "tasks."), "tasks.sat", 0, n_k - 1)
    t_t = _float_list(_require(tasks, "arrival_s", list, "tasks."), "tasks.arrival_s", 0.0, horizon)
    t_bits = _float_list(_require(tasks, "data_bits", list, "tasks."), "tasks.data_bits", 1.0, 1e15)
    t_units = _int_list(_require(tasks, "slots", list, "tasks."), "tasks.slots", 1, params.task_slots_max)
    if not t_sat.size == t_t.size == t_bits.size == t_units.size:
        raise InputError("tasks", "sat, arrival_s, data_bits and slots must have the same length")
    check_tasks_sorted(t_t)
    q0 = _int_list(_require(data, "initial_queue", list, ""), "initial_queue", 0, 10**9)
    if q0.size != params.containers:
        raise InputError("initial_queue", f"has {q0.size} entries, expected {params.containers} containers")
    return LeoInstance(
        params,
        epoch,
        tle,
        satrecs,
        station_names,
        _stations_array(st),
        windows,
        plane_ref,
        slot_ref,
        proc,
        np.asarray(ms),
        np.asarray(acc),
        t_sat,
        t_t,
        t_bits,
        t_units,
        q0,
    )
