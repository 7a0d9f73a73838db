"""Instances of mec-queues: generated arrival traces and strict loading of instance JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from offloadlab.core.config import instance_header, parse_params
from offloadlab.core.errors import InputError
from offloadlab.scenarios.mec_queues.params import SCENARIO_ID, MecQueuesParams, make_params


@dataclass(frozen=True)
class MecInstance:
    """Validated parameters and the arrival trace [T, D] in Mbit (0 = no task)."""

    params: MecQueuesParams
    arrivals: np.ndarray

    @property
    def tasks(self) -> int:
        """Number of tasks in the trace."""
        return int((self.arrivals > 0).sum())


def sample_arrivals(params: MecQueuesParams, rng: np.random.Generator, slots: int | None = None) -> np.ndarray:
    """Tang & Wong's arrivals (train.py): size U[min, max] Mbit, present with probability p, [T, D]."""
    shape = (params.slots if slots is None else slots, params.devices)
    size = rng.uniform(params.size_min_mbit, params.size_max_mbit, size=shape)
    return size * (rng.uniform(size=shape) < params.arrival_prob)


def make_instance(seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """The instance JSON ``{"scenario", "params", "arrivals_mbit": [T][D]}`` of a preset, overrides and seed."""
    params = make_params(preset, **overrides)
    arrivals = sample_arrivals(params, np.random.default_rng(seed))
    return {"scenario": SCENARIO_ID, "params": params.model_dump(), "arrivals_mbit": arrivals.tolist()}


def load_instance(data: Mapping[str, Any]) -> MecInstance:
    """Validate instance JSON strictly: every params field, a finite non-negative [slots][devices] trace."""
    if isinstance(data, MecInstance):
        return data
    instance_header(data, SCENARIO_ID, required=("params", "arrivals_mbit"), allowed=())
    params = parse_params(MecQueuesParams, data["params"])
    raw = data["arrivals_mbit"]
    shape = (params.slots, params.devices)
    if (
        not isinstance(raw, list)
        or len(raw) != shape[0]
        or any(not isinstance(row, list) or len(row) != shape[1] for row in raw)
    ):
        raise InputError("arrivals_mbit", f"expected a list of {shape[0]} rows of {shape[1]} numbers (slots x devices)")
    if any(isinstance(v, (bool, str)) or not isinstance(v, (int, float)) for row in raw for v in row):
        raise InputError("arrivals_mbit", "must contain numbers only")
    arrivals = np.asarray(raw, dtype=float)
    if not np.all(np.isfinite(arrivals)) or np.any(arrivals < 0):
        idx = [int(i) for i in np.argwhere(~np.isfinite(arrivals) | (arrivals < 0))[0]]
        raise InputError(f"arrivals_mbit[{idx[0]}][{idx[1]}]", "must be a finite number >= 0 (Mbit; 0 = no task)")
    return MecInstance(params, arrivals)
