"""Parameters of the digital-twin vehicular edge scenario (seed 004, Table I) and its presets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel
from offloadlab.core.config import preset_params as core_preset_params

# Physical bounds of the unbounded-looking factors: beyond them products such as kappa f^3 cycles or
# beta * backlog^2 overflow a float (a switched capacitance of 1e-20 F is already eight orders above a CPU's).
MAX_KAPPA = 1e-20
MAX_WEIGHT = 1e6


class DtVehicularParams(StrictModel):
    """System, generator and objective parameters, SI units (task sizes in bytes as in the paper)."""

    N: int = Field(10, ge=1, le=1000, description="number of vehicles")
    K: int = Field(3, ge=1, le=64, description="task types per vehicle and slot (= server queues)")
    bandwidth_hz: float = Field(20e6, ge=1, le=1e12, description="channel bandwidth w (1 Hz to 1 THz)")
    tx_power_w: float = Field(0.2, gt=0, le=1e3, description="vehicle transmit power p_n")
    noise_dbm: float = Field(-110.0, ge=-250, le=50, description="noise power rho^2 (Table I '-110mdB' read as dBm)")
    carrier_hz: float = Field(2e9, ge=1e3, le=3e12, description="carrier frequency f_c (1 kHz to 3 THz)")
    f_vehicle_hz: float = Field(5e9, gt=0, le=1e12, description="vehicle CPU f_v, cycles/s (at most 1 THz)")
    f_edge_hz: float = Field(
        400e9, ge=1e3, le=1e15, description="edge server CPU f_E (all cores), cycles/s (1 kHz to 1e15)"
    )
    n_edge_cores: int = Field(10, ge=1, le=100_000, description="CPU cores N_E of the edge server")
    task_bytes_min: float = Field(1000.0, ge=1, le=1e12, description="smallest task |D| in bytes (at most 1 TB)")
    task_bytes_max: float = Field(1500.0, ge=1, le=1e12, description="largest task |D| in bytes (at most 1 TB)")
    cycles_per_byte: float = Field(
        0.25e6, ge=1e-3, le=1e9, description="c_k, CPU cycles per byte (0.25 MHz/Byte; at most 1e9)"
    )
    kappa_vehicle: float = Field(
        1e-28, ge=0, le=MAX_KAPPA, description="effective switched capacitance kappa^ve of a vehicle"
    )
    kappa_edge: float = Field(
        1.0 / 400e9**3, ge=0, le=MAX_KAPPA, description="effective switched capacitance kappa^se of the server"
    )
    delta_f: float = Field(
        0.0,
        gt=-1,
        lt=1,
        description="digital-twin frequency bias: the real edge CPU of a task "
        "is alpha f_E (1 + delta_f), i.e. Delta f^est = delta_f alpha f_E",
    )
    capacity_basis: Literal["real", "nominal"] = Field(
        "real",
        description="'real': sum(alpha) (1 + delta_f) <= 1 (eq. 17d with the biased frequencies); "
        "'nominal': sum(alpha) <= 1 (the twin's own budget; the bias is a gift or a loss)",
    )
    beta: float = Field(1.0, ge=0, le=MAX_WEIGHT, description="Lyapunov trade-off factor beta of P2 (eq. 24)")
    qos_weight: float = Field(1.0, ge=0, le=MAX_WEIGHT, description="weight of -U^sys in P2 (1 in the paper)")
    energy_weight: float = Field(1.0, ge=0, le=MAX_WEIGHT, description="weight of E^sys in P2 (1 in the paper)")
    terminal_queue_weight: float = Field(
        1.0,
        ge=0,
        le=MAX_WEIGHT,
        description="weight of the terminal queue cost beta L(q(T)), L(q) = sum_k q_k^2 / 2: the work still "
        "queued when the episode ends, charged once (the paper is silent; 0 leaves it uncharged)",
    )
    deadline_s: float = Field(
        0.3,
        ge=1e-6,
        le=1e6,
        description="maximal latency T^max of every task; longer than a slot, so "
        "a task may be served over several slots and the queues of eq. (5) carry the rest",
    )
    # Generator settings the paper leaves open (documented choices, configurable):
    slot_s: float = Field(0.1, gt=0, le=3600, description="slot length tau (mobility, fading, queue service)")
    slots: int = Field(50, ge=1, le=100_000, description="slots per episode")
    speed_min_mps: float = Field(10.0, ge=0, le=1e4, description="slowest vehicle speed v_n (at most 10 km/s)")
    speed_max_mps: float = Field(15.0, ge=0, le=1e4, description="fastest vehicle speed v_n (at most 10 km/s)")
    road_length_m: float = Field(
        1000.0, ge=1, le=1e7, description="road segment covered by the BS; vehicles wrap around (at most 10,000 km)"
    )
    bs_offset_m: float = Field(
        10.0, ge=0, le=1e5, description="horizontal distance from the road to the BS (at most 100 km)"
    )
    bs_height_m: float = Field(
        25.0, gt=0, le=1e5, description="BS antenna height above the road (at most 100 km: above any platform)"
    )
    shadowing_std_db: float = Field(8.0, ge=0, le=30, description="log-normal shadowing standard deviation")
    decorrelation_m: float = Field(50.0, ge=1e-3, le=1e7, description="shadowing decorrelation distance")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> DtVehicularParams:
        if self.task_bytes_max < self.task_bytes_min:
            raise ValueError(
                f"task_bytes_max ({self.task_bytes_max:g}) must be >= task_bytes_min ({self.task_bytes_min:g})"
            )
        if self.speed_max_mps < self.speed_min_mps:
            raise ValueError(
                f"speed_max_mps ({self.speed_max_mps:g}) must be >= speed_min_mps ({self.speed_min_mps:g})"
            )
        return self

    def estimate_bytes(self, batch: int = 1) -> int:
        """Peak bytes of an episode while ``batch`` decisions are played at once (core.resources)."""
        # Measured with tracemalloc (within a factor 1.5): the [T, N] mobility and channel traces and their
        # temporaries about 80 bytes per vehicle-slot; the [T, N, K] task sizes 8 bytes, and a played
        # episode keeps its decisions omega and alpha (16 more); each decision played in a batch about 160
        # bytes per slot (its log) and per task (one slot's temporaries).
        T, N, K = self.slots, self.N, self.K
        return 80 * T * N + 24 * T * N * K + batch * 160 * (T + N * K)

    @property
    def real_factor(self) -> float:
        """1 + delta_f: real edge frequency per unit of the twin's allocation alpha f_E."""
        return 1.0 + self.delta_f

    @property
    def capacity_factor(self) -> float:
        """Weight of sum(alpha) in the capacity constraint sum(alpha) * factor <= 1."""
        return self.real_factor if self.capacity_basis == "real" else 1.0


PRESETS: dict[str, dict[str, Any]] = {
    # Table I as read: every value literal; what the paper leaves open takes the field defaults.
    "paper": {},
    # Calibrated: the same physics with an 8x smaller edge server (50 GHz, kappa^se scaled as in Table I),
    # so that the server is contended from N = 5 on and partial offloading is a real trade-off; energy
    # weighted 0.05 so that a slot's local energy (about 2.3 J per vehicle) and the QoS are of one order;
    # beta 1e-9 per byte^2 so that a backlog of a few slots' arrivals weighs like the QoS (with beta = 1
    # any backlog in bytes outweighs everything else by nine orders of magnitude).
    "default": {"f_edge_hz": 50e9, "kappa_edge": 1.0 / 50e9**3, "energy_weight": 0.05, "beta": 1e-9},
}


def preset_params(preset: str = "default", **overrides: Any) -> DtVehicularParams:
    """Parameters of a named preset with overrides applied and validated."""
    return core_preset_params(DtVehicularParams, PRESETS, preset, overrides)
