"""Reading and writing JSON files with errors that name the file and the defect."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError


def read_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file; InputError on a missing file or invalid JSON (NaN literals are rejected)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(what, f"file '{p}' not found")
    text = p.read_text(encoding="utf-8", errors="replace")

    def no_constants(token: str) -> float:
        raise InputError(what, f"'{p}' contains {token}, which is not a number (allowed: finite numbers)")

    try:
        return json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise InputError(what, f"'{p}' is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def dumps(obj: Any, indent: int | None = None) -> str:
    """JSON text with non-finite floats written as null."""
    from offloadlab.core.result import jsonable

    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def write_json(path: str | Path, obj: Any) -> None:
    """Write JSON (non-finite floats as null), creating parent folders."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(dumps(obj, indent=None) + "\n", encoding="utf-8")


def is_finite_number(x: Any) -> bool:
    """True for a finite int/float that is not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
