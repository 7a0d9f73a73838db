"""Device knowledge base (Sec. VIII-B): operator-level processing delays per device, stored as JSON.

The host entries are measured here with torch, one thread, following the paper's protocol: run the
single-operator model for a warm-up period (1 s), then report the mean single-round time over a
measurement period (5 s). Both durations are parameters.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, op_input, op_module

HOST_KB = "host_kb.json"


@dataclass(frozen=True)
class Protocol:
    """Timing protocol: warm-up seconds, measurement seconds, torch intra-op threads."""

    warmup_s: float = 1.0
    measure_s: float = 5.0
    threads: int = 1

    def __post_init__(self) -> None:
        if not (self.warmup_s >= 0 and self.measure_s > 0 and self.threads >= 1):
            raise InputError("protocol", "warmup_s >= 0, measure_s > 0 and threads >= 1 are required")


def time_callable(fn: Callable[[], object], protocol: Protocol) -> float:
    """Mean seconds per call of ``fn`` after the warm-up (at least one timed call)."""
    end = time.perf_counter() + protocol.warmup_s
    while time.perf_counter() < end:
        fn()
    start = time.perf_counter()
    calls = 0
    while calls == 0 or time.perf_counter() - start < protocol.measure_s:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def measure_op(spec: OpSpec, protocol: Protocol) -> float:
    """Mean latency (s) of one operator run alone with batch 1 on this machine's CPU."""
    mod, x = op_module(spec), op_input(spec)
    with torch.inference_mode():
        return time_callable(lambda: mod(x), protocol)


@dataclass
class KnowledgeBase:
    """Compute engine, device spec, protocol and operator delays (s) keyed by ``OpSpec.key``."""

    engine: dict[str, Any]
    device: dict[str, Any]
    protocol: dict[str, Any]
    latency_s: dict[str, float] = field(default_factory=dict)

    def lookup(self, spec: OpSpec) -> float:
        """Delay of one operator; an operator absent from the base is an error, never a guess."""
        try:
            return self.latency_s[spec.key]
        except KeyError:
            raise InputError(
                "operator", f"{spec.key} is not in the knowledge base of {self.device.get('name', '?')}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KnowledgeBase:
        """Strict inverse of ``to_json``: every field present, every delay finite and positive."""
        for name in ("engine", "device", "protocol", "latency_s"):
            if not isinstance(data.get(name), dict):
                raise InputError(name, "missing or not an object")
        for key, val in data["latency_s"].items():
            OpSpec.from_key(key)
            if not isinstance(val, int | float) or not math.isfinite(val) or val <= 0:
                raise InputError(f"latency_s.{key}", "must be a finite positive number")
        return cls(
            dict(data["engine"]),
            dict(data["device"]),
            dict(data["protocol"]),
            {k: float(v) for k, v in data["latency_s"].items()},
        )

    def save(self, path: Path) -> None:
        """Write the base as indented JSON."""
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> KnowledgeBase:
        """Read a base written by ``save``."""
        return cls.from_json(json.loads(Path(path).read_text()))


def host_spec() -> dict[str, Any]:
    """Device spec of this machine (what the paper's 'device spec' attribute holds), with the load average
    when the measurement started (other processes inflate the delays)."""
    cpuinfo = Path("/proc/cpuinfo")
    models = (
        [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        if cpuinfo.exists()
        else []
    )
    return {
        "name": "host",
        "type": "cpu",
        "machine": platform.machine(),
        "cpu_model": models[0] if models else "",
        "logical_cpus": os.cpu_count(),
        "system": platform.system(),
        "python": platform.python_version(),
        "load_avg_1m_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def measure_knowledge_base(
    specs: Iterable[OpSpec],
    protocol: Protocol = Protocol(),
    progress: Callable[[int, OpSpec, float], None] | None = None,
) -> KnowledgeBase:
    """Measure every operator on this machine with ``protocol.threads`` torch threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    try:
        kb = KnowledgeBase(
            {"name": "PyTorch", "version": torch.__version__, "mode": "eager, inference_mode"},
            host_spec(),
            asdict(protocol),
        )
        for i, spec in enumerate(specs):
            kb.latency_s[spec.key] = measure_op(spec, protocol)
            if progress is not None:
                progress(i, spec, kb.latency_s[spec.key])
        return kb
    finally:
        torch.set_num_threads(before)


def shipped_host_kb() -> KnowledgeBase:
    """The host knowledge base measured once on the development machine and shipped with the package."""
    text = resources.files(__package__).joinpath("data", HOST_KB).read_text()
    return KnowledgeBase.from_json(json.loads(text))
