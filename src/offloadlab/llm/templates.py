"""Prompt templates (Jinja2): each scenario keeps its prompts in its own folder (its manifest's
``prompt_dir``), one sub-folder per wording; the scenario-independent ones live in llm/prompts/common."""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

from offloadlab.core.errors import InputError
from offloadlab.core.space import DecisionSpace
from offloadlab.llm.formats import AnswerFormat

COMMON_DIR = Path(str(importlib.resources.files("offloadlab.llm") / "prompts" / "common"))


def nums(values: Iterable[float], digits: int = 3, scale: float = 1.0) -> str:
    """A list of numbers, scaled and rounded, as compact text: [0.31, 0.52] (never -0)."""
    return "[" + ", ".join(f"{round(float(v) * scale, digits) + 0.0:g}" for v in values) + "]"


def wordings(folder: Path | None) -> list[str]:
    """Prompt wordings (sub-folders, e.g. expert, plain) of a scenario's prompt folder."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted(p.name for p in Path(folder).iterdir() if p.is_dir())


def environment(folder: Path) -> jinja2.Environment:
    """A Jinja2 environment over ``folder``: undefined variables are errors, ``nums`` is a filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder), str(COMMON_DIR)]),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nums"] = nums
    return env


class PromptBook:
    """Renders the prompts of one wording in a scenario's prompt folder, and the common ones."""

    def __init__(self, folder: Path | None, wording: str | None = None):
        if folder is None or not Path(folder).is_dir():
            raise InputError("prompt", f"no prompt folder '{folder}'")
        if wording is not None and wording not in wordings(folder):
            raise InputError(
                "prompt", f"unknown wording '{wording}' (allowed: {', '.join(wordings(folder)) or 'none'})"
            )
        self.prefix = f"{wording}/" if wording else ""
        self.folder = Path(folder)
        self.env = environment(self.folder)

    def render(self, role: str, **context: Any) -> str:
        """The scenario's prompt for ``role`` (e.g. task, expert, reminder, icl): the wording's own template,
        else the one shared by all wordings at the top of the prompt folder."""
        return self.env.select_template(self._names(role)).render(**context).strip()

    def _names(self, role: str) -> list[str]:
        """Where a role's template is looked for: the wording's folder, then the scenario's prompt folder."""
        return [f"{self.prefix}{role}.j2", f"{role}.j2"]

    def has(self, role: str) -> bool:
        """Whether there is a template for ``role`` (e.g. the optional feedback)."""
        return any((self.folder / name).is_file() for name in self._names(role))

    def answer_format(self, space: DecisionSpace) -> AnswerFormat:
        """The wording's answer format (its format.json), or the raw decision space."""
        return AnswerFormat.load(space, self.folder / self.prefix / "format.json")


@functools.lru_cache(maxsize=1)
def _common() -> jinja2.Environment:
    return environment(COMMON_DIR)


def render_common(name: str, **context: Any) -> str:
    """A scenario-independent prompt (retry, extract)."""
    return _common().get_template(f"{name}.j2").render(**context).strip()
