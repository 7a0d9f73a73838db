"""Prompt templates (Jinja2 files under llm/prompts/): one folder per scenario and wording, plus common ones."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any, Iterable

import jinja2

from offloadlab.core.errors import InputError

PROMPTS_DIR = Path(str(importlib.resources.files("offloadlab.llm") / "prompts"))
COMMON = "common"


def nums(values: Iterable[float], digits: int = 3, scale: float = 1.0) -> str:
    """A list of numbers, scaled and rounded, as compact text: [0.31, 0.52]."""
    return "[" + ", ".join(f"{round(float(v) * scale, digits):g}" for v in values) + "]"


def templated_scenarios() -> list[str]:
    """Scenarios that have prompt templates."""
    return sorted(p.name for p in PROMPTS_DIR.iterdir() if p.is_dir() and p.name != COMMON)


def wordings(scenario: str) -> list[str]:
    """Prompt wordings available for a scenario (e.g. expert, plain)."""
    folder = PROMPTS_DIR / scenario
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


class PromptBook:
    """Renders a scenario's prompts in one wording; undefined template variables are errors."""

    def __init__(self, scenario: str, wording: str):
        if wording not in wordings(scenario):
            raise InputError("prompt", f"unknown wording '{wording}' for {scenario} "
                                       f"(allowed: {', '.join(wordings(scenario)) or 'none'})")
        self.prefix = f"{scenario}/{wording}"
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PROMPTS_DIR)), autoescape=False,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["nums"] = nums

    def render(self, role: str, **context: Any) -> str:
        """The scenario's prompt for ``role`` (task, expert, reminder)."""
        return self.env.get_template(f"{self.prefix}/{role}.j2").render(**context).strip()

    def render_common(self, name: str, **context: Any) -> str:
        """A scenario-independent prompt (retry, extract)."""
        return self.env.get_template(f"{COMMON}/{name}.j2").render(**context).strip()
