"""What a scenario declares about itself, so that experiments, plots and reports name nobody."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Direction = Literal["min", "max"]
# What a solver's ``budget`` counts: model evaluations of a static problem, environment steps,
# training slots (learning episodes of a sequential problem), LLM calls, or nothing (budget ignored).
BudgetUnit = Literal["evaluations", "env_steps", "training_slots", "llm_calls", "none"]


@dataclass(frozen=True)
class Objective:
    """The scalar a scenario's solvers optimise, with its label, unit and direction."""

    name: str  # key of the objective in evaluation details, e.g. "mean_latency_s"
    label: str  # axis label without unit, e.g. "Mean latency"
    unit: str  # e.g. "s"; "" for a dimensionless cost
    direction: Direction = "min"

    @property
    def axis_label(self) -> str:
        """The label with its unit in parentheses, e.g. "Mean latency (s)"."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class Manifest:
    """A scenario's self-description: id, paper, objective, presets, prompt folder and Gymnasium ids."""

    id: str
    paper: str  # short citation of the paper the scenario models
    seed: str  # the specification's seed number, e.g. "000"
    objective: Objective
    presets: tuple[str, ...]
    sequential: bool = False
    prompt_dir: Path | None = None  # folder of the scenario's Jinja2 prompt templates
    gym_ids: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("offloadlab/satellite-mec-v0",)
    parallel_env_ids: tuple[str, ...] = field(default_factory=tuple)  # PettingZoo, see core.envs
    # Parameter overrides of a small instance (seconds to solve): contract tests and examples use it.
    small: Mapping[str, Any] = field(default_factory=dict)
