"""The options listing of ``offloadlab solvers SCENARIO``: each solver's options with type, bounds, default and
meaning, read from the same options model that validates them (so the listing cannot drift from the checks)."""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from offloadlab.core.options import options_model

UNDOCUMENTED = "(no description declared)"


@dataclass(frozen=True)
class OptionRow:
    """One option as listed: CLI name, type, bounds, default and one line of meaning."""

    flag: str
    type: str
    bounds: str
    default: str
    meaning: str

    def line(self, widths: tuple[int, int, int, int]) -> str:
        """The row as one aligned text line."""
        cells = (self.flag, self.type, self.bounds, self.default)
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + self.meaning


def type_name(annotation: Any) -> str:
    """A short, readable name of an option's type (Literal choices joined with |)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return "|".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]" if inner else getattr(origin, "__name__", "")
    if annotation is type(None):
        return "null"
    if annotation is Ellipsis:
        return "..."
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def bounds_text(info: FieldInfo) -> str:
    """The option's bounds as an interval, e.g. ``[1, 100000]``, ``(0, 86400]``, ``>= 1``; ``-`` if none."""
    low: Any = None
    high: Any = None
    closed_low = closed_high = True
    extra = []
    for m in info.metadata:
        if isinstance(m, at.Ge | at.Gt):
            low, closed_low = (m.ge, True) if isinstance(m, at.Ge) else (m.gt, False)
        elif isinstance(m, at.Le | at.Lt):
            high, closed_high = (m.le, True) if isinstance(m, at.Le) else (m.lt, False)
        elif isinstance(m, at.MinLen):
            extra.append(f"length >= {m.min_length}")
        elif isinstance(m, at.MaxLen):
            extra.append(f"length <= {m.max_length}")
        elif getattr(m, "pattern", None):
            extra.append(f"matches {m.pattern}")
    if low is not None and high is not None:
        extra.insert(0, f"{'[' if closed_low else '('}{low:g}, {high:g}{']' if closed_high else ')'}")
    elif low is not None:
        extra.insert(0, f"{'>=' if closed_low else '>'} {low:g}")
    elif high is not None:
        extra.insert(0, f"{'<=' if closed_high else '<'} {high:g}")
    return "; ".join(extra) or "-"


def default_text(info: FieldInfo) -> str:
    """The default as JSON (what a spec file would write); ``required`` when there is none."""
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def option_rows(fn: Any) -> list[OptionRow]:
    """The listing rows of a solver function, one per option of its options model."""
    fields = options_model(fn).model_fields
    return [
        OptionRow(
            f"--{name.replace('_', '-')}",
            type_name(info.annotation),
            bounds_text(info),
            default_text(info),
            (info.description or UNDOCUMENTED).splitlines()[0],
        )
        for name, info in fields.items()
    ]


def model_rows(model: type[BaseModel], prefix: str = "") -> list[OptionRow]:
    """The rows of a config model's keys, nested models flattened to dotted keys (``data.seed``)."""
    rows = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            rows += model_rows(info.annotation, f"{key}.")
            continue
        meaning = (info.description or UNDOCUMENTED).splitlines()[0]
        rows.append(OptionRow(key, type_name(info.annotation), bounds_text(info), default_text(info), meaning))
    return rows


def aligned(rows: list[OptionRow]) -> list[str]:
    """Rows as text lines with their columns aligned."""
    widths = tuple(max((len(getattr(r, k)) for r in rows), default=0) for k in ("flag", "type", "bounds", "default"))
    return [r.line(widths) for r in rows]  # type: ignore[arg-type]


def listing(scenario: str, solver: str | None = None) -> str:
    """The text of ``offloadlab solvers SCENARIO [--solver NAME]``."""
    from offloadlab.core.registry import get_solver, solvers_for

    specs = {solver: get_solver(scenario, solver)} if solver else dict(sorted(solvers_for(scenario).items()))
    out = []
    for name, spec in specs.items():
        rows = option_rows(spec.fn)
        out.append(f"{name} ({spec.budget_unit}): {spec.description.splitlines()[0] if spec.description else ''}")
        if not rows:
            out.append("  (no options)")
        out += aligned(rows)
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def training_listing(scenario: str | None = None) -> str:
    """The trainers part of ``offloadlab train [SCENARIO] --help``: per scenario (every one with trainers when
    none is named) its methods, its profiles with their measured time and memory, and each profile's
    ``--config`` keys with type, bounds, default and meaning."""
    from offloadlab.core.trainers import profiles_for, scenarios_with_trainers, trainers_for

    scenarios = [scenario] if scenario else scenarios_with_trainers()
    out = []
    for sc in scenarios:
        out += [f"{sc} methods (--method):"]
        out += [f"  {m:8s}  {spec.description.splitlines()[0]}" for m, spec in trainers_for(sc).items()]
        profiles = profiles_for(sc)
        if profiles:
            out.append(f"{sc} profiles (--profile; the first is the default), measured time and memory:")
            for name, prof in profiles.items():
                out += [f"  {name}: {prof.description}", f"    measured: {prof.measured()}"]
            models: dict[type[BaseModel], list[str]] = {}  # profiles sharing a config model are listed once
            for name, prof in profiles.items():
                models.setdefault(prof.config_model(), []).append(name)
            for model, names in models.items():
                which = ", ".join(names)
                out.append(f"{sc} --config keys of the {which} profile(s) (a JSON object; dotted keys nest):")
                out += aligned(model_rows(model))
        out.append("")
    return "\n".join(out).rstrip() + "\n"
