"""Prompt templates (Jinja2): each scenario keeps its prompts in its own folder (its manifest's
``prompt_dir``), one sub-folder per wording; the scenario-independent ones live in llm/prompts/common."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any, Iterable

import jinja2

from offloadlab.core.errors import InputError

COMMON_DIR = Path(str(importlib.resources.files("offloadlab.llm") / "prompts" / "common"))


def nums(values: Iterable[float], digits: int = 3, scale: float = 1.0) -> str:
    """A list of numbers, scaled and rounded, as compact text: [0.31, 0.52]."""
    return "[" + ", ".join(f"{round(float(v) * scale, digits):g}" for v in values) + "]"


def wordings(folder: Path | None) -> list[str]:
    """Prompt wordings (sub-folders, e.g. expert, plain) of a scenario's prompt folder."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if p.is_dir())


def environment(folder: Path) -> jinja2.Environment:
    """A Jinja2 environment over ``folder``: undefined variables are errors, ``nums`` is a filter."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(folder), str(COMMON_DIR)]), autoescape=False,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["nums"] = nums
    return env


class PromptBook:
    """Renders the prompts of one wording in a scenario's prompt folder, and the common ones."""

    def __init__(self, folder: Path | None, wording: str | None = None):
        if folder is None or not Path(folder).is_dir():
            raise InputError("prompt", f"no prompt folder '{folder}'")
        if wording is not None and wording not in wordings(folder):
            raise InputError("prompt", f"unknown wording '{wording}' "
                                       f"(allowed: {', '.join(wordings(folder)) or 'none'})")
        self.prefix = f"{wording}/" if wording else ""
        self.env = environment(Path(folder))
        self.common = environment(COMMON_DIR)

    def render(self, role: str, **context: Any) -> str:
        """The scenario's prompt for ``role`` (e.g. task, expert, reminder, icl)."""
        return self.env.get_template(f"{self.prefix}{role}.j2").render(**context).strip()

    def render_common(self, name: str, **context: Any) -> str:
        """A scenario-independent prompt (retry, extract)."""
        return self.common.get_template(f"{name}.j2").render(**context).strip()
