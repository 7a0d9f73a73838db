"""Parameters of the mec-queues scenario (Tang & Wong's simulator, COMLLM's server types) and presets."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel, preset_params

SCENARIO_ID = "mec-queues"
# Length of the server-load history seen by Tang & Wong's LSTM and printed in COMLLM's state text.
HISTORY_SLOTS = 10
MAX_SERVERS = 1_000


class MecQueuesParams(StrictModel):
    """System parameters. Sizes in Mbit, CPU in GHz (Gcycles/s), time in slots of ``slot_s`` seconds."""

    devices: int = Field(50, ge=1, le=10_000, description="number of mobile devices (Tang & Wong: 50)")
    servers: int = Field(5, ge=1, le=MAX_SERVERS, description="number of edge servers")
    slots: int = Field(100, ge=1, le=100_000, description="slots in which tasks may arrive")
    drain_slots: int = Field(10, ge=0, le=100_000, description="extra slots without arrivals at the end")
    slot_s: float = Field(0.1, gt=0, le=1e3, description="slot length in seconds")
    server_ghz: list[float] = Field(default_factory=lambda: [41.8] * 5, description="CPU of each server, GHz")
    server_type: list[str] = Field(
        default_factory=lambda: ["high-performance"] * 5,
        description="type name of each server (shown in the text state)",
    )
    device_ghz: float = Field(2.5, gt=0, le=1e4, description="CPU of each device, GHz")
    uplink_mbps: float = Field(14.0, gt=0, le=1e6, description="upload rate of each device, Mbit/s")
    density_gcycles_per_mbit: float = Field(
        0.297, ge=1e-6, le=1e4, description="computation density (1e-6 to 1e4: a per-slot rate stays finite)"
    )
    arrival_prob: float = Field(0.3, ge=0, le=1, description="probability that a task arrives in a slot")
    size_min_mbit: float = Field(2.0, gt=0, le=1e6, description="smallest task size")
    size_max_mbit: float = Field(5.0, gt=0, le=1e6, description="largest task size")
    deadline_slots: int = Field(10, ge=1, le=10_000, description="a task older than this is dropped (D)")

    @model_validator(mode="after")
    def _consistent(self) -> MecQueuesParams:
        if self.size_max_mbit < self.size_min_mbit:
            raise ValueError(f"size_max_mbit ({self.size_max_mbit}) must be >= size_min_mbit ({self.size_min_mbit})")
        for name in ("server_ghz", "server_type"):
            if len(getattr(self, name)) != self.servers:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, expected servers = {self.servers}")
        if any(not 0 < g <= 1e6 for g in self.server_ghz):
            raise ValueError("server_ghz entries must be in (0, 1e6]")
        return self

    def estimate_bytes(self, batch: int = 1) -> int:
        """Peak bytes of an instance while ``batch`` simulator copies run at once (core.resources)."""
        # Measured with tracemalloc (within 25 %): the [T, D] arrival trace about 70 bytes a task slot as
        # JSON lists and text; each simulator copy holds FIFO buffers of T arrival slots (int64) for every
        # device's CPU, uplink and (device, server) queue, 8 T D (S + 2) bytes, about 64 bytes per device
        # and horizon slot (arrivals, actions, delays, drops and the metrics' masks) and 48 per
        # (device, server) pair.
        T, D, S = self.slots, self.devices, self.servers
        return 70 * T * D + batch * (8 * T * D * (S + 2) + 64 * self.horizon * D + 48 * D * S)

    @property
    def horizon(self) -> int:
        """Slots simulated: arrival slots plus drain slots."""
        return self.slots + self.drain_slots

    @property
    def local_rate_mbit(self) -> float:
        """Mbit a device computes per slot, in fog_env.py's operation order."""
        return self.device_ghz * self.slot_s / self.density_gcycles_per_mbit

    @property
    def upload_mbit(self) -> float:
        """Mbit a device uploads per slot."""
        return self.uplink_mbps * self.slot_s


# Server types in COMLLM's README example ("高性能型 / 标准型 / 节能型").
SERVER_TYPES: dict[str, float] = {"high-performance": 41.8, "standard": 30.0, "energy-saving": 22.0}

# Each preset lists its server-type cycle; ``servers`` picks the first S entries of the cycle repeated.
# Cycling the three COMLLM types to reach a count is our assumption (the authors publish no simulator).
PRESET_CYCLES: dict[str, tuple[str, ...]] = {
    "tang-wong": ("high-performance",),  # 5 x 41.8 GHz as in fog_env.py
    "comllm": ("high-performance", "standard", "energy-saving"),
}
PRESETS: dict[str, dict[str, Any]] = {
    # fog_env.py + train.py: 50 devices, 5 servers, 100 slots + 10 drain slots, D = 10.
    "tang-wong": {"devices": 50, "servers": 5, "slots": 100, "drain_slots": 10},
    # COMLLM: 6 servers for training (11 for the zero-shot test, via --servers 11). 20 devices is our
    # choice: it gives 0-4 active tasks per server, the range of the README example's load history.
    "comllm": {"devices": 20, "servers": 6, "slots": 100, "drain_slots": 10},
}
PRESETS["default"] = PRESETS["tang-wong"]
PRESET_CYCLES["default"] = PRESET_CYCLES["tang-wong"]


def make_params(preset: str = "default", **overrides: Any) -> MecQueuesParams:
    """Parameters of a preset with overrides; the server lists follow the preset's type cycle unless given."""
    servers = overrides.get("servers", PRESETS.get(preset, {}).get("servers", 1))
    filled = dict(overrides)
    # the lists are built only for a valid count: anything else ("abc", 1e30, 10**30) is left to the model,
    # whose validation names the field
    if isinstance(servers, int) and not isinstance(servers, bool) and 1 <= servers <= MAX_SERVERS:
        cycle = PRESET_CYCLES.get(preset, ("high-performance",))
        types = [cycle[i % len(cycle)] for i in range(servers)]
        filled = {"server_type": types, "server_ghz": [SERVER_TYPES[t] for t in types], **overrides}
    return preset_params(MecQueuesParams, PRESETS, preset, filled)
