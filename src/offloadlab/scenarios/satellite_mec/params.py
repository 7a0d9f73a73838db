"""Parameters of the satellite-MEC scenario (seed 000, Table I) and its presets."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel
from offloadlab.core.config import preset_params as core_preset_params


class SatMecParams(StrictModel):
    """System parameters, SI units. Field names follow the instance JSON contract (docs/contracts.md): its 14
    parameters are required in an instance file; the generator's settings (Rician K, e_min, task-size range)
    are written with every generated instance but optional on input, and ``interference`` defaults to the
    documented "physical" reading."""

    INPUT_OPTIONAL: ClassVar[tuple[str, ...]] = (
        "rician_k_db",
        "e_min_deg",
        "data_mb_min",
        "data_mb_max",
        "interference",
    )

    M: int = Field(3, ge=1, le=1000, description="number of satellites")
    N: int = Field(10, ge=1, le=1_000_000, description="number of IoT terminals")
    I: int = Field(4, ge=1, le=256, description="number of sub-channels")
    bandwidth_hz: float = Field(1e7, gt=0, le=1e12, description="bandwidth B of each sub-channel (at most 1 THz)")
    noise_dbm: float = Field(-134.0, ge=-250, le=50, description="AWGN power N0 at the satellite receiver")
    p_max_w: float = Field(0.2, gt=0, le=1e3, description="total transmit power P_IoT of a terminal")
    f_iot_hz: float = Field(5e8, gt=0, le=1e13, description="terminal CPU F_IoT, cycles/s (at most 1e13)")
    f_sat_hz: float = Field(2e10, gt=0, le=1e15, description="satellite CPU F_SAT, cycles/s (at most 1e15)")
    rho_cycles_per_bit: float = Field(100.0, gt=0, le=1e7, description="computational density rho (at most 1e7)")
    deadline_s: float = Field(1.0, gt=0, le=1e6, description="scheduling period Delta (latency deadline, <= 1e6 s)")
    antenna_gain_dbi: float = Field(3.0, ge=-50, le=80, description="terminal antenna gain G_n")
    carrier_hz: float = Field(3.49e9, gt=0, le=3e12, description="carrier frequency f_c (at most 3 THz)")
    earth_radius_m: float = Field(
        6.371e6, gt=0, le=1e8, description="Earth radius R_e (at most 1e8 m: larger than any planet, Jupiter 7e7)"
    )
    altitude_m: float = Field(5.5e5, gt=0, le=1e8, description="orbit height R_h (at most 1e8 m: well beyond GEO)")
    # Generator settings the paper leaves open (documented choices, configurable):
    rician_k_db: float = Field(10.0, ge=-30, le=60, description="Rician K factor of the fading")
    e_min_deg: float = Field(10.0, ge=0, le=90, description="lowest elevation angle e_min")
    data_mb_min: float = Field(0.3, gt=0, le=1e6, description="smallest task size in MB (1 MB = 1e6 bytes; <= 1 TB)")
    data_mb_max: float = Field(0.6, gt=0, le=1e6, description="largest task size in MB (at most 1e6 MB = 1 TB)")
    interference: Literal["physical", "paper"] = Field(
        "physical",
        description="'physical': interferer k reaches satellite m through its own gain G[m][k][i]; "
        "'paper': eq. (4) read literally, through G[m'][k][i] to k's own target m'",
    )

    @model_validator(mode="after")
    def _sizes_ordered(self) -> SatMecParams:
        if self.data_mb_max < self.data_mb_min:
            raise ValueError(f"data_mb_max ({self.data_mb_max}) must be >= data_mb_min ({self.data_mb_min})")
        return self

    def estimate_bytes(self, batch: int = 1) -> int:
        """Peak bytes of an instance while ``batch`` decisions are evaluated at once (core.resources)."""
        # Measured with tracemalloc (within 20 %): the [M, N, I] fading and gains cost about 90 bytes an
        # element at the peak of `instance` (three float arrays plus the JSON lists and text of the fading)
        # and about 60 when an instance file is loaded; a decision [M, N] + [N, I] and its evaluation
        # temporaries about 16 bytes an element.
        M, N, I = self.M, self.N, self.I
        return 90 * M * N * I + batch * (16 * (M * N + N * I + M * I) + 64 * N)


PRESETS: dict[str, dict] = {
    # Table I literally: P_IoT = 0.2 mW. Offloading then needs minutes per task (SNR about -28 dB)
    # and misses the 1 s deadline, so all-local is optimal and every method ties.
    "paper": {"p_max_w": 2e-4},
    # Calibrated: 0.2 W total transmit power (a plausible reading of the table's "0.2mW"), which
    # makes offloading a real trade-off between upload time, interference and shared satellite CPU.
    "default": {"p_max_w": 0.2},
}


def preset_params(preset: str, **overrides) -> SatMecParams:
    """Parameters of a named preset with overrides applied and validated."""
    return core_preset_params(SatMecParams, PRESETS, preset, overrides)
