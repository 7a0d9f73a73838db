"""Validated configuration models (pydantic) with one-line, field-naming errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from offloadlab.core.errors import InputError, UnknownNameError, excerpt
from offloadlab.core.resources import check_params

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for parameter models: unknown keys are errors, values are validated on assignment.

    ``INPUT_OPTIONAL`` names the fields an instance file may leave out: settings used only to generate an
    instance (written when the project writes one, unused when it is evaluated) and settings whose default
    the scenario's contract documents. Every other field is required in an instance file."""

    INPUT_OPTIONAL: ClassVar[tuple[str, ...]] = ()

    # strict: no type coercion ("10" is not 10, true is not 1); no NaN or infinity anywhere
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True, strict=True, allow_inf_nan=False)


def parse_model(cls: type[M], data: Any, where: str) -> M:
    """Validate ``data`` into ``cls`` or raise InputError naming the first offending field."""
    if not isinstance(data, Mapping):
        raise InputError(where, "expected a JSON object")
    try:
        # Parameters are data: validated as JSON text, so strict mode accepts what JSON can say (an array
        # for a tuple, an integer for a float) and nothing else (no "10" for 10, no true for 1, no NaN).
        try:
            text = json.dumps(dict(data))
        except (TypeError, ValueError):
            model = cls.model_validate(dict(data))
        else:
            model = cls.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{where}.{loc}" if loc else where
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(cls.model_fields)
            msg = f"unknown field (allowed: {allowed})"
        elif "input" in err and not isinstance(err["input"], (dict, list)):
            msg = f"{msg} (got {excerpt(err['input'])})"
        raise InputError(field, msg) from None
    # parameters that size an instance are checked against the memory limit before anything is allocated
    check_params(model, where)
    return model


def preset_params(
    cls: type[M],
    presets: Mapping[str, Mapping[str, Any]],
    preset: str,
    overrides: Mapping[str, Any],
    where: str = "params",
) -> M:
    """Parameters of a named preset with overrides applied and validated."""
    if preset not in presets:
        raise UnknownNameError("preset", preset, list(presets))
    return parse_model(cls, {**presets[preset], **overrides}, where)


def parse_params(cls: type[M], data: Any, where: str = "params") -> M:
    """Validate the params of an instance file: every field must be present (no silent defaults) except the
    model's ``INPUT_OPTIONAL`` ones."""
    if isinstance(data, Mapping):
        optional = getattr(cls, "INPUT_OPTIONAL", ())
        missing = [name for name in cls.model_fields if name not in data and name not in optional]
        if missing:
            raise InputError(f"{where}.{missing[0]}", "missing (an instance file must give every parameter)")
    return parse_model(cls, data, where)


def instance_header(
    data: Any, scenario_id: str, required: tuple[str, ...], allowed: tuple[str, ...] | None = None
) -> Mapping[str, Any]:
    """Check an instance JSON object: a mapping naming ``scenario_id`` with every ``required`` key
    (and, if ``allowed`` is given, no other key)."""
    if not isinstance(data, Mapping):
        raise InputError("instance", "expected a JSON object")
    if "scenario" not in data:
        raise InputError("scenario", "missing: the instance must name its scenario")
    if data["scenario"] != scenario_id:
        raise InputError("scenario", f"expected '{scenario_id}', got {excerpt(data['scenario'])}")
    for key in required:
        if key not in data:
            raise InputError(key, "missing")
    if allowed is not None:
        unknown = sorted(set(data) - {"scenario", *required, *allowed})
        if unknown:
            raise InputError(unknown[0], f"unknown field (allowed: {', '.join(['scenario', *required, *allowed])})")
    return data


def check_seed(value: Any, where: str = "seed") -> int:
    """A seed: an integer (not a bool) in [0, 2**63)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InputError(where, f"must be an integer in [0, 2**63) (got {excerpt(value)})")
    return value
