"""The CLI reference, read from the Typer app itself: every command with its help text, arguments and options."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import typer
from docs_models import cell, log, type_name

from offloadlab.cli import app

EXTRA_NOTE = {
    "instance": "Further `--NAME VALUE` pairs override the scenario's parameters: see the "
    "[scenario parameters](scenarios/index.md).",
    "solve": "Further `--NAME VALUE` pairs are solver options: see the [solver options](solvers.md).",
}


def _param_type(param: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)  # typer >= 0.20
    if descriptor is not None:
        return type_name(descriptor.annotation)
    return str(getattr(getattr(param, "type", None), "name", "text"))


def _default(param: Any) -> str:
    if getattr(param, "required", False):
        return "required"
    value = param.default
    if value is None or value == []:
        return "–"
    if isinstance(value, PurePath):
        value = str(value)
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def _rows(command: Any, where: str) -> list[str]:
    rows = []
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        is_argument = type(param).__name__.endswith("Argument")
        name = param.name.upper() if is_argument else ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        help_text = getattr(param, "help", None) or ""
        if not help_text:
            log.warning("%s: %s has no help text", where, param.name)
        kind = "flag" if getattr(param, "is_flag", False) else _param_type(param)
        if getattr(param, "multiple", False):  # list[str] -> "str (repeatable)"
            kind = kind.removeprefix("list[").removesuffix("]") + " (repeatable)"
        rows.append(f"| {name if not is_argument else f'`{name}`'} | {kind} | {_default(param)} | {cell(help_text)} |")
    return rows


HEADER = ["| argument or option | type | default | meaning |", "|---|---|---|---|"]


def cli_page() -> str:
    """The Markdown reference of ``offloadlab``: global options, then one section per command."""
    group = typer.main.get_command(app)
    parts = [
        "# Command-line reference",
        "",
        "Generated from the Typer app (`offloadlab.cli.app`). " + cell(group.help or ""),
        "",
        "Every command prints JSON on stdout (or a table with `--table`), and a user mistake as one line "
        "`error: FIELD: ...` on stderr with exit code 2 (see [reliability](../reliability.md)).",
        "",
        "## Global options",
        "",
        "`offloadlab [GLOBAL OPTIONS] COMMAND ...`",
        "",
        *HEADER,
        *_rows(group, "offloadlab"),
    ]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if not command.help:
            log.warning("command %s has no help text", name)
        usage_args = " ".join(p.name.upper() for p in command.params if type(p).__name__.endswith("Argument"))
        parts += [
            "",
            f"## `{name}`",
            "",
            cell(command.help or ""),
            "",
            f"`offloadlab {name} [OPTIONS]{' ' + usage_args if usage_args else ''}`",
            "",
        ]
        if name in EXTRA_NOTE:
            parts += [EXTRA_NOTE[name], ""]
        rows = _rows(command, f"command {name}")
        parts += [*HEADER, *rows] if rows else ["No arguments or options."]
    return "\n".join(parts) + "\n"
