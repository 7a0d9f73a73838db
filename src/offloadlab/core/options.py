"""Solver options as data: each solver's keyword parameters become a strict pydantic model, so an option
of the wrong type, out of its bounds or not finite is an InputError naming it, never coerced or crashing
later. Bounds are declared on the solver with ``Annotated[int, Field(ge=1)]``."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from offloadlab.core.errors import InputError, excerpt

RESERVED = ("problem", "instance", "budget", "rng")


@cache
def options_model(fn: Callable[..., Any]) -> type[BaseModel]:
    """The strict options model of a solver function, from its signature's annotations and defaults."""
    hints = inspect.get_annotations(fn, eval_str=True)
    fields: dict[str, Any] = {}
    params = inspect.signature(fn).parameters
    # a solver taking **options validates them itself (e.g. through its hyper-parameter model)
    extra: Literal["allow", "forbid"] = "allow" if any(p.kind is p.VAR_KEYWORD for p in params.values()) else "forbid"
    for name, param in params.items():
        if name in RESERVED or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints.get(name, Any), default)
    config = ConfigDict(extra=extra, strict=True, allow_inf_nan=False, arbitrary_types_allowed=True)
    return create_model(f"{fn.__name__}_options", __config__=config, **fields)


def validate_options(fn: Callable[..., Any], solver: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options checked against the solver's signature (InputError naming the first bad option)."""
    model = options_model(fn)
    try:
        # options are data (CLI flags parsed as JSON, spec files): validated as JSON text, so a JSON
        # array is a tuple and nothing is coerced; options JSON cannot express are validated as objects
        try:
            model.model_validate_json(json.dumps(dict(options)))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            model.model_validate(dict(options))
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "extra_forbidden":
            allowed = ", ".join(model.model_fields) or "none"
            raise InputError(f"option {name}", f"not taken by solver '{solver}' (allowed: {allowed})") from None
        got = f" (got {excerpt(err['input'])})" if "input" in err and not isinstance(err["input"], dict) else ""
        raise InputError(f"option {name}", f"{err['msg']}{got}") from None
    return dict(options)
