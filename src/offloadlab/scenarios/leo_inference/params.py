"""Parameters of the leo-inference scenario (seed 003, LEOEdge, Sec. IX-A) and its presets.

Every field the paper leaves open is marked "(ours)" in its description; docs/leo-inference.md
gives the reasons.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import UnknownNameError

MIYUN = {"name": "Miyun", "lat_deg": 40.45, "lon_deg": 116.86, "alt_m": 100.0, "min_elevation_deg": 10.0}
# Further Chinese ground stations (approximate public coordinates), used by the multi-station extension.
KASHI = {"name": "Kashi", "lat_deg": 39.50, "lon_deg": 75.93, "alt_m": 1300.0, "min_elevation_deg": 10.0}
SANYA = {"name": "Sanya", "lat_deg": 18.31, "lon_deg": 109.31, "alt_m": 50.0, "min_elevation_deg": 10.0}
# Physical bounds of the rates and per-image times: beyond them products such as bits / rate or
# images x ms overflow or lose every digit (1 bit/s to 1 Tbit/s; 1 microsecond to 1000 s an image).
MAX_RATE_BPS = 1e12
MIN_MS_PER_IMAGE = 1e-3
MAX_MS_PER_IMAGE = 1e6
LatencyMs = Annotated[float, Field(ge=0, le=MAX_MS_PER_IMAGE)]
ARRIVAL_LEVELS: dict[str, tuple[float, float]] = {"light": (5.0, 10.0), "normal": (2.0, 2.0), "heavy": (1.0, 1.0)}


class StationParams(StrictModel):
    """One ground station (the contract's station object)."""

    name: str = Field(min_length=1)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=360)
    alt_m: float = Field(ge=-500, le=10000)
    min_elevation_deg: float = Field(ge=0, le=89)


class LeoParams(StrictModel):
    """System, orbit, traffic and model parameters. Units: SI unless the name says otherwise."""

    # --- constellation (paper: 10 satellites at 500-700 km; planes, inclination, phasing, epoch: ours)
    satellites: int = Field(10, ge=1, le=5000, description="number of satellites N")
    planes: int = Field(2, ge=1, le=500, description="orbital planes M (ours)")
    inclination_deg: float = Field(53.0, gt=0, lt=180, description="inclination (ours)")
    phasing: int = Field(1, ge=0, le=5000, description="Walker phasing factor F (ours)")
    altitude_min_km: float = Field(500.0, gt=150, le=2000, description="lowest plane altitude")
    altitude_max_km: float = Field(700.0, gt=150, le=2000, description="highest plane altitude")
    raan0_deg: float | None = Field(
        None,
        ge=-360,
        le=360,
        description="RAAN of plane 0; null: aligned so that plane 0 passes over "
        "the first station in its first orbit (ours)",
    )
    epoch_utc: str = Field("2024-01-01T00:00:00Z", description="TLE epoch and time origin (ours)")
    hours: float = Field(1.0, gt=0, le=240, description="simulated horizon")
    window_step_s: float = Field(
        10.0, ge=1, le=600, description="grid step of the contact-window search, 1 s to 10 min (ours)"
    )
    contact_model: Literal["orbits", "always"] = Field(
        "orbits",
        description="'orbits': offload only inside SGP4 contact windows (direct or relay); 'always': "
        "every satellite always reaches the station (what Figs. 7-8 seem to assume; ours)",
    )
    # --- links (paper: 10 Mbps satellite-ground at Miyun, 100 Mbps ISL; loss, window, RTT: ours)
    ground_rate_bps: float = Field(10e6, ge=1, le=MAX_RATE_BPS, description="satellite-ground data rate l(n_i, S)")
    isl_rate_bps: float = Field(100e6, ge=1, le=MAX_RATE_BPS, description="inter-satellite link capacity")
    ground_loss: float = Field(0.01, ge=0, lt=1, description="packet loss rate p of the ground link (ours)")
    isl_loss: float = Field(0.001, ge=0, lt=1, description="packet loss rate p_ij of an ISL (ours)")
    isl_window_bits: float = Field(
        4e6, ge=1, le=1e12, description="bits in flight C_ij on an ISL; k_ij = C_ij / RTT (ours)"
    )
    isl_extra_rtt_s: float = Field(
        0.002, ge=0, le=60, description="processing part of the ISL RTT, added to 2 d / c (ours)"
    )
    isl_max_range_km: float = Field(5000.0, gt=0, le=1e5, description="range of opportunistic other-orbit ISLs (ours)")
    relay_pick: Literal["min", "max"] = Field(
        "min", description="other-orbit relay: Algorithm 4 line 24 (min delay, ours) or the text (max delay)"
    )
    return_results: bool = Field(True, description="Case I of Algorithm 4: results return to the satellite")
    # --- ground cluster (paper: 3 servers x 4 containers, each 4-core x86 at 4 GHz)
    servers: int = Field(3, ge=1, le=100, description="servers S")
    containers_per_server: int = Field(4, ge=1, le=100, description="containers per server |O_s|")
    container_slots: int = Field(4, ge=1, le=256, description="task slots of a container (one per core, ours)")
    container_sizes: tuple[Annotated[int, Field(ge=1, le=256)], ...] = Field(
        (),
        max_length=100,
        description="task slots of a server's containers, cycled over them; empty: container_slots each (ours)",
    )
    server_ms_per_image: float = Field(
        10.0, ge=MIN_MS_PER_IMAGE, le=MAX_MS_PER_IMAGE, description="c(m_e) per image on one core (ours)"
    )
    server_accuracy: float = Field(0.752, ge=0, le=1, description="a_s: MobileNetV3-Large top-1 (ours)")
    load_threshold: float = Field(
        0.5, gt=0, le=1, description="p of constraints (6)-(8) (ours: the 50 % the paper's workload baseline keeps)"
    )
    load_function: Literal["linear"] = Field("linear", description="L(Q) = Q / capacity (ours)")
    # --- tasks (paper: light 1 per 5-10 s, normal 1 per 2 s, heavy 1 per 1 s; distribution: ours)
    arrivals: Literal["light", "normal", "heavy"] = Field("normal", description="arrival level")
    arrival_process: Literal["poisson", "periodic"] = Field(
        "poisson", description="inter-arrival law around the level's mean (ours)"
    )
    images_per_task: int = Field(32, ge=1, le=10000, description="images in one inference task (ours)")
    task_slots_max: int = Field(
        1,
        ge=1,
        le=16,
        description="a task needs u slots, u uniform in 1..this; it carries u x images_per_task images and "
        "runs on u cores of one container at once (ours)",
    )
    # at most 1e6 kB (1 GB) an image: a task (<= 10,000 images) stays within the instance's 1e15-bit task size
    image_kb_min: float = Field(10.0, gt=0, le=1e6, description="smallest image, kB (ours)")
    image_kb_max: float = Field(30.0, gt=0, le=1e6, description="largest image, kB (ours)")
    result_kb: float = Field(1.0, ge=0, le=1e6, description="result size s_n per task, kB (ours)")
    model_family: Literal["MobileNetV3", "ShuffleNetV2"] = Field(
        "MobileNetV3", description="on-board model family: Table II (MobileNetV3) or Table III (ShuffleNetV2)"
    )
    local_model: Literal["original", "adapted"] = Field(
        "original",
        description="on-board model of each satellite: 'original' = the family's unadapted model (the table's "
        "latency without adaptive modeling, the original 72 % / 69.1 % accuracy); 'adapted' = the variant "
        "adaptive modelling selected for the satellite's processor (the table's latency with it and its "
        "accuracy). Ours: 'original', with adapted models all under 20 ms the threshold baseline never offloads",
    )
    # --- objective and scheduler (alpha, F, round length: ours)
    alpha: float = Field(0.5, ge=0, le=1, description="alpha of eq. (2)")
    benefit: Literal["linear", "log"] = Field("linear", description="F: max(x, 0) or log(1 + max(x, 0)/scale)")
    benefit_scale: float = Field(0.01, ge=1e-9, le=1e6, description="scale of the 'log' F")
    round_s: float = Field(
        1.0, ge=0.1, le=3600, description="scheduling round, 0.1 s to 1 h: Q is observed at its start (ours)"
    )
    # --- adaptive modeling (paper; used by the adaptive-modeling part)
    latency_interval_ms: tuple[LatencyMs, LatencyMs] = Field(
        (15.0, 20.0), description="adaptive-model latency interval, ms"
    )
    nag_beta: float = Field(0.01, gt=0, le=1e3, description="beta of eq. (33)")

    @model_validator(mode="after")
    def _ordered(self) -> LeoParams:
        if self.altitude_max_km < self.altitude_min_km:
            raise ValueError("altitude_max_km must be >= altitude_min_km")
        if self.image_kb_max < self.image_kb_min:
            raise ValueError("image_kb_max must be >= image_kb_min")
        if any(not 1 <= c <= 256 for c in self.container_sizes):
            raise ValueError("container_sizes must lie in [1, 256]")
        if self.latency_interval_ms[1] < self.latency_interval_ms[0]:
            raise ValueError("latency_interval_ms must be [low, high]")
        return self

    def estimate_bytes(self, batch: int = 1, stations: int = 1) -> int:
        """Peak bytes of an instance with ``stations`` ground stations while ``batch`` decisions are
        evaluated at once (core.resources)."""
        # Measured with tracemalloc (within a factor 1.5 at 20-100 satellites, 2-24 h): the contact-window
        # search holds about 100 bytes per satellite, station and grid time; the path selection [tasks, K]
        # and [tasks, windows] arrays about 128 bytes per task and satellite and 8 per task and window
        # (windows: about 0.25 per satellite, station and hour, measured at 53 deg); the task lists
        # about 256 bytes a task; a decision [tasks, 1 + S + O] 16 bytes an entry.
        K, horizon_s = self.satellites, self.hours * 3600.0
        steps = math.ceil(horizon_s / self.window_step_s) + 1
        tasks = K * horizon_s / (sum(ARRIVAL_LEVELS[self.arrivals]) / 2)
        windows = K * stations * (0.25 * self.hours + 0.1)
        per_task = 128 * K + 8 * windows + 256 + batch * 16 * (1 + self.servers + self.containers)
        return int(100 * K * stations * steps + tasks * per_task)

    @property
    def containers(self) -> int:
        """Total containers O."""
        return self.servers * self.containers_per_server

    @property
    def slots_per_container(self) -> list[int]:
        """Task slots of each container [O] (``container_sizes`` cycled within each server)."""
        sizes = self.container_sizes or (self.container_slots,)
        return [sizes[o % self.containers_per_server % len(sizes)] for o in range(self.containers)]

    @property
    def server_task_s(self) -> float:
        """c(m_e): seconds a container core needs for one task."""
        return self.images_per_task * self.server_ms_per_image / 1000.0


PRESETS: dict[str, dict] = {
    # Sec. IX-A: 10 satellites at 500-700 km, one station (Miyun), 10/100 Mbps, 3 x 4 containers.
    "paper": {"satellites": 10, "planes": 2},
    # A larger default: 12 satellites in 3 planes over three stations, so that windows overlap.
    "default": {"satellites": 12, "planes": 3},
    # The default under heavy arrivals with tasks of 1-3 slots and containers of 2, 3, 4 and 6 slots: the
    # load limit binds and the round LP is fractional (LP > MILP on typical seeds).
    "heterogeneous": {
        "satellites": 12,
        "planes": 3,
        "arrivals": "heavy",
        "task_slots_max": 3,
        "container_sizes": (2, 3, 4, 6),
    },
    # Figs. 7-8 at a load the paper reports: the paper's constellation, station, links, cluster and arrivals,
    # every satellite in contact, and only our per-task sizes changed so that offloading every task under
    # heavy arrivals fills the 48 cores (Fig. 7: MARL's load "approaches 100 %"): c(m_e) = 48 cores x 1 s /
    # 10 tasks = 4.8 s = 240 images x 20 ms (the threshold baseline's 20 ms read as the edge core's time per
    # image); images of 2-5 kB keep a task's raw data (6.7 Mbit on average) under a second of the 10 Mbps
    # uplink. Full offloading then loads the cluster about 14 / 50 / 100 % under light / normal / heavy.
    "calibrated": {
        "satellites": 10,
        "planes": 2,
        "contact_model": "always",
        "images_per_task": 240,
        "server_ms_per_image": 20.0,
        "image_kb_min": 2.0,
        "image_kb_max": 5.0,
    },
}
PRESET_STATIONS: dict[str, list[dict]] = {
    "paper": [MIYUN],
    "calibrated": [MIYUN],
    "default": [MIYUN, KASHI, SANYA],
    "heterogeneous": [MIYUN, KASHI, SANYA],
}


def preset_params(preset: str, **overrides: object) -> LeoParams:
    """Parameters of a named preset with overrides applied and validated."""
    if preset not in PRESETS:
        raise UnknownNameError("preset", preset, list(PRESETS))
    return parse_model(LeoParams, {**PRESETS[preset], **overrides}, "params")
