"""Markdown tables of pydantic models (scenario parameters, solver options): one row per field with its
type, bounds, default, unit and meaning, all read from the model, so a changed bound changes the page."""

from __future__ import annotations

import json
import logging
import math
import types
import typing
from collections.abc import Iterable
from typing import Any

import annotated_types as at
import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

# mkdocs counts warnings of its own logger tree: under --strict, a warning here fails the build
log = logging.getLogger("mkdocs.plugins.offloadlab_docs")

# Units read from a field's name suffix (the project names fields with their unit, e.g. ``deadline_s``);
# a field may also declare ``json_schema_extra={"unit": ...}``, which wins. Longest suffix first.
UNIT_SUFFIXES = {
    "cycles_per_bit": "cycles/bit",
    "cycles_per_byte": "cycles/byte",
    "_dbm_per_hz": "dBm/Hz",
    "_flops_per_w": "FLOP/s/W",
    "_ms_per_image": "ms/image",
    "_bytes": "byte",
    "gcycles_per_mbit": "Gcycles/Mbit",
    "_m_s": "m/s",
    "_mps": "m/s",
    "_mbps": "Mbit/s",
    "_bps": "bit/s",
    "_ghz": "GHz",
    "_mhz": "MHz",
    "_hz": "Hz",
    "_dbm": "dBm",
    "_dbi": "dBi",
    "_db": "dB",
    "_mbit": "Mbit",
    "_bits": "bit",
    "_mb": "MB",
    "_kb": "kB",
    "_gb": "GB",
    "_km": "km",
    "_m": "m",
    "_deg": "°",
    "_ms": "ms",
    "_s": "s",
    "_w": "W",
    "_j": "J",
}
NAMED_UNITS = {"hours": "h"}  # fields named by their unit alone
NO_UNIT = "–"


def unit_of(name: str, field: FieldInfo) -> str:
    """The unit of a field: declared in ``json_schema_extra["unit"]``, else read from its name's suffix."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("unit"), str):
        return str(extra["unit"])
    lowered = name.lower()
    if lowered in NAMED_UNITS:
        return NAMED_UNITS[lowered]
    for end in ("_min", "_max"):  # e.g. data_mb_min: the unit precedes the end of a range
        if lowered.endswith(end):
            lowered = lowered[: -len(end)]
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        token = suffix.lstrip("_")  # a rate such as cycles_per_byte may also be the whole name
        if lowered.endswith("_" + token) or ("_per_" in token and lowered == token):
            return UNIT_SUFFIXES[suffix]
    return NO_UNIT


def number(x: Any) -> str:
    """A number as people write it: 1e7 as 1e7, 2e-4 as 2e-4, 0.2 as 0.2, 100.0 as 100."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return str(x)
    if isinstance(x, int) and x % 10_000 != 0:  # e.g. 262144: written out, not as 2.62144e5
        return str(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return np.format_float_scientific(float(x), trim="-", exp_digits=1).replace("e+", "e")
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x)


def type_name(annotation: Any) -> str:
    """A compact, readable name of a type annotation (Literal choices, unions, generics)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join("null" if a is type(None) else type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else type_name(a) for a in args)
        base = getattr(origin, "__name__", str(origin))
        return f"{base}[{inner}]" if inner else base
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _arms(field: FieldInfo) -> list[Any]:
    """The field's metadata and that of Annotated arms of an optional/union type (e.g. ``Kicks | None``)."""
    found: list[Any] = list(field.metadata)
    annotation = field.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arm in typing.get_args(annotation):
            if typing.get_origin(arm) is typing.Annotated:
                found += list(typing.get_args(arm)[1:])
    return found


def description_of(field: FieldInfo) -> str:
    """The field's description, or that of an Annotated arm of its union type ('' when none)."""
    if field.description:
        return field.description
    for meta in _arms(field):
        if isinstance(meta, FieldInfo) and meta.description:
            return meta.description
    return ""


def _constraints(field: FieldInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for meta in _arms(field):
        parts = meta.metadata if isinstance(meta, FieldInfo) else [meta]
        for part in parts:
            for key in ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern"):
                value = getattr(part, key, None)
                if value is not None:
                    out[key] = value
            if isinstance(part, at.Interval):
                out.update({k: v for k, v in vars(part).items() if v is not None})
    return out


def bounds_of(field: FieldInfo) -> str:
    """Bounds as an interval, e.g. ``[1, 1000]``, ``(0, 1e12]``; lengths and patterns as words; ``–`` if none."""
    c = _constraints(field)
    parts = []
    if any(k in c for k in ("ge", "gt", "le", "lt")):
        low = f"[{number(c['ge'])}" if "ge" in c else f"({number(c['gt'])}" if "gt" in c else "(−∞"
        high = f"{number(c['le'])}]" if "le" in c else f"{number(c['lt'])})" if "lt" in c else "∞)"
        parts.append(f"{low}, {high}")
    if "min_length" in c or "max_length" in c:
        parts.append(f"length {c.get('min_length', 0)}–{c.get('max_length', '∞')}")
    if "pattern" in c:
        parts.append(f"matches `{c['pattern']}`")
    return "; ".join(parts) or NO_UNIT


def default_of(field: FieldInfo) -> str:
    """The default as JSON-like text, or "required"."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"`{number(value)}`"
    text = json.dumps(value, default=str)
    return f"`{text if len(text) <= 60 else text[:57] + '...'}`"


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    flat = " ".join(str(text).split()).replace("<", "&lt;").replace(">", "&gt;")
    return flat.replace("|", "\\|").replace("\\\\|", "\\|")


def field_rows(
    model: type[BaseModel],
    where: str,
    names: Iterable[str] | None = None,
    display: dict[str, str] | None = None,
    units: bool = True,
) -> list[str]:
    """Table rows of a model's fields (or only ``names``, shown as ``display`` names); warns about each field
    without a description."""
    rows = []
    wanted = None if names is None else set(names)
    for name, field in model.model_fields.items():
        if wanted is not None and name not in wanted:
            continue
        meaning = description_of(field)
        if not meaning:
            log.warning("%s: field '%s' has no description (Field(description=...))", where, name)
        cells = [f"`{(display or {}).get(name, name)}`", type_name(field.annotation), bounds_of(field)]
        cells += [default_of(field), *([unit_of(name, field)] if units else []), cell(meaning)]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def field_table(
    model: type[BaseModel],
    where: str,
    names: Iterable[str] | None = None,
    display: dict[str, str] | None = None,
    units: bool = True,
) -> str:
    """A Markdown table of a model's fields: name, type, bounds, default, unit (unless ``units`` is off), meaning."""
    rows = field_rows(model, where, names, display, units)
    if not rows:
        return "No options."
    header = ["name", "type", "bounds", "default", *(["unit"] if units else []), "meaning"]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows])


def nested_models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """Models used inside a model's field types (e.g. a list of station models), each once."""
    found: list[type[BaseModel]] = []

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in found and annotation is not model:
                found.append(annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    for field in model.model_fields.values():
        visit(field.annotation)
    return found
