"""Decision-space spec: declared once, from which Gymnasium spaces, JSON Schema, flat encodings
and input validation are all derived."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError


@dataclass(frozen=True)
class ArrayField:
    """One named decision array with a fixed shape, element bounds and integrality."""

    name: str
    shape: tuple[int, ...]
    low: float
    high: float
    integer: bool = False
    description: str = ""
    # Soft fields: the upper bound and integrality are constraints that evaluate() reports as
    # named violations (a well-formed but infeasible decision), not input errors.
    soft: bool = False

    @property
    def size(self) -> int:
        """Number of scalar elements."""
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass(frozen=True)
class DecisionSpace:
    """An ordered set of array fields plus human-readable coupling constraints.

    Element bounds and integrality live on the fields; constraints that couple elements
    (e.g. "each row of offload sums to at most 1") are listed as text for prompts and docs
    and are checked by the scenario's model, which reports them as named violations.
    """

    fields: tuple[ArrayField, ...]
    constraints: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> ArrayField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def flat_size(self) -> int:
        """Length of the flat vector encoding."""
        return sum(f.size for f in self.fields)

    @property
    def flat_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-element lower and upper bounds of the flat encoding."""
        lo = np.concatenate([np.full(f.size, f.low, dtype=float) for f in self.fields])
        hi = np.concatenate([np.full(f.size, f.high, dtype=float) for f in self.fields])
        return lo, hi

    @property
    def flat_integer(self) -> np.ndarray:
        """Boolean mask of integer elements in the flat encoding."""
        return np.concatenate([np.full(f.size, f.integer) for f in self.fields])

    def encode(self, decision: Mapping[str, Any]) -> np.ndarray:
        """Flatten a (possibly batched) decision dict into [..., flat_size]."""
        parts = []
        for f in self.fields:
            arr = np.asarray(decision[f.name], dtype=float)
            lead = arr.shape[: arr.ndim - len(f.shape)]
            parts.append(arr.reshape(*lead, f.size))
        return np.concatenate(parts, axis=-1)

    def decode(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """Inverse of encode: [..., flat_size] -> dict of arrays with leading batch dims."""
        flat = np.asarray(flat, dtype=float)
        if flat.shape[-1] != self.flat_size:
            raise InputError("decision", f"flat vector has length {flat.shape[-1]}, expected {self.flat_size}")
        lead = flat.shape[:-1]
        out, start = {}, 0
        for f in self.fields:
            out[f.name] = flat[..., start : start + f.size].reshape(*lead, *f.shape)
            start += f.size
        return out

    def gym_space(self):
        """Gymnasium Dict space with one Box (or MultiBinary) per field."""
        from gymnasium import spaces

        sub = {}
        for f in self.fields:
            if f.integer and f.low == 0 and f.high == 1:
                sub[f.name] = spaces.MultiBinary(list(f.shape))
            else:
                sub[f.name] = spaces.Box(low=f.low, high=f.high, shape=f.shape, dtype=np.float32)
        return spaces.Dict(sub)

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of one decision, with shapes and element bounds."""
        props = {}
        for f in self.fields:
            item: dict[str, Any] = {"type": "integer" if f.integer else "number", "minimum": f.low, "maximum": f.high}
            schema = item
            for dim in reversed(f.shape):
                schema = {"type": "array", "items": schema, "minItems": dim, "maxItems": dim}
            if f.description:
                schema = {**schema, "description": f.description}
            props[f.name] = schema
        return {
            "type": "object",
            "properties": props,
            "required": [f.name for f in self.fields],
            "additionalProperties": True,
        }

    def validate(self, decision: Any, *, where: str = "decision", clip_tol: float = 0.0) -> dict[str, np.ndarray]:
        """Parse one decision object into arrays, raising InputError naming the field on any defect.

        Checks presence, shape, numeric type, NaN/inf and element bounds (with ``clip_tol`` slack,
        values within the slack are clipped). Coupling constraints are not checked here.
        """
        if not isinstance(decision, Mapping):
            raise InputError(where, f"expected a JSON object with keys {[f.name for f in self.fields]}")
        out = {}
        for f in self.fields:
            name = f"{where}.{f.name}"
            if f.name not in decision:
                raise InputError(name, f"missing (expected an array of shape {list(f.shape)})")
            arr = _as_numeric_array(decision[f.name], name)
            if arr.shape != f.shape:
                raise InputError(name, f"has shape {list(arr.shape)}, expected {list(f.shape)}")
            if not np.all(np.isfinite(arr)):
                raise InputError(name, "contains NaN or infinite values")
            lo_bad = arr < f.low - clip_tol
            hi_bad = arr > f.high + clip_tol if not f.soft else np.zeros(arr.shape, dtype=bool)
            if lo_bad.any() or hi_bad.any():
                idx = tuple(int(i) for i in np.argwhere(lo_bad | hi_bad)[0])
                raise InputError(
                    name, f"value {arr[idx]:g} at index {list(idx)} outside the allowed range [{f.low:g}, {f.high:g}]"
                )
            arr = np.clip(arr, f.low, None if f.soft else f.high)
            if f.integer and not f.soft:
                if not np.all(arr == np.round(arr)):
                    raise InputError(name, f"must be integers in [{f.low:g}, {f.high:g}]")
            out[f.name] = arr
        return out

    def sample(self, rng: np.random.Generator, batch: int | None = None) -> dict[str, np.ndarray]:
        """Uniform sample within element bounds (coupling constraints are not enforced)."""
        lead = () if batch is None else (batch,)
        out = {}
        for f in self.fields:
            if f.integer:
                out[f.name] = rng.integers(int(f.low), int(f.high) + 1, size=lead + f.shape).astype(float)
            else:
                out[f.name] = rng.uniform(f.low, f.high, size=lead + f.shape)
        return out


def _as_numeric_array(value: Any, name: str) -> np.ndarray:
    """Convert nested lists to a float array, rejecting ragged, boolean-string or non-numeric input."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, "must be a (nested) list of numbers") from None
    if arr.dtype == object:
        raise InputError(name, "must be a rectangular (nested) list of numbers")
    if _contains_str_or_bool(value):
        raise InputError(name, "must contain numbers, not strings or booleans")
    return arr


def _contains_str_or_bool(value: Any) -> bool:
    if isinstance(value, (str, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_contains_str_or_bool(v) for v in value)
    return False


def check_number(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate one scalar, raising InputError that names the field and the allowed range."""
    rng_txt = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(name, f"must be a number in {rng_txt}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(name, f"must be a finite number in {rng_txt}")
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise InputError(name, f"value {v:g} outside the allowed range {rng_txt}")
    return v
