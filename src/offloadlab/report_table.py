"""Human-readable tables (rich) for CLI output."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        flat = str(v)
        return flat if len(flat) <= 80 else flat[:77] + "..."
    if isinstance(v, dict):
        return ", ".join(f"{k}={_short(x)}" for k, x in v.items())
    return str(v)


def print_table(obj: dict[str, Any], title: str = "") -> None:
    """Print a key/value table of a result dict."""
    table = Table(title=title or None)
    table.add_column("field")
    table.add_column("value")
    for k, v in obj.items():
        table.add_row(str(k), _short(v))
    Console().print(table)
