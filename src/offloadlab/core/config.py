"""Validated configuration models (pydantic) with one-line, field-naming errors."""

from __future__ import annotations

from typing import Any, Mapping, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from offloadlab.core.errors import InputError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for parameter models: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)


def parse_model(cls: type[M], data: Any, where: str) -> M:
    """Validate ``data`` into ``cls`` or raise InputError naming the first offending field."""
    if not isinstance(data, Mapping):
        raise InputError(where, "expected a JSON object")
    try:
        return cls.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        field = f"{where}.{loc}" if loc else where
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(cls.model_fields)
            msg = f"unknown field (allowed: {allowed})"
        elif "input" in err and not isinstance(err["input"], (dict, list)):
            msg = f"{msg} (got {err['input']!r})"
        raise InputError(field, msg) from None
