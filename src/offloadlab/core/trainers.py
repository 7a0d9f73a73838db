"""Registry of offline trainers (``offloadlab train SCENARIO --method M``): a scenario's plug-in registers,
per method, a function that trains a model into a folder; the CLI names no scenario.

A trainer is ``fn(out_dir, profile, config, resume, progress) -> dict`` (a JSON-ready summary): ``config``
is the parsed ``--config`` JSON object (or None), validated by the trainer itself (InputError naming the
field); ``resume`` continues an interrupted run from its last checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from offloadlab.core.errors import InputError, UnknownNameError
from offloadlab.core.registry import load_plugins

TRAIN_DIR_ENV = "OFFLOADLAB_TRAIN_DIR"
Trainer = Callable[[Path, str, "Mapping[str, Any] | None", bool, bool], dict[str, Any]]


@dataclass(frozen=True)
class TrainerSpec:
    """A registered trainer: what it trains and the function that does it."""

    scenario: str
    method: str
    fn: Trainer
    description: str


_TRAINERS: dict[tuple[str, str], TrainerSpec] = {}


def register_trainer(scenario: str, method: str, fn: Trainer, description: str = "") -> Trainer:
    """Register ``fn`` as the trainer of ``method`` for ``scenario``."""
    _TRAINERS[(scenario, method)] = TrainerSpec(scenario, method, fn, description or (fn.__doc__ or "").strip())
    return fn


def trainers_for(scenario: str) -> dict[str, TrainerSpec]:
    """The trainers registered for a scenario, by method name."""
    load_plugins()
    return {m: s for (sc, m), s in sorted(_TRAINERS.items()) if sc == scenario}


def get_trainer(scenario: str, method: str | None) -> TrainerSpec:
    """The trainer of ``method`` for ``scenario`` (None: its only one); UnknownNameError listing the known ones."""
    table = trainers_for(scenario)
    if not table:
        load_plugins()
        known = sorted({sc for sc, _ in _TRAINERS})
        raise UnknownNameError("scenario with trainers", scenario, known)
    if method is None:
        if len(table) > 1:
            raise InputError("--method", f"{scenario} has several training methods: {', '.join(table)}")
        return next(iter(table.values()))
    if method not in table:
        raise UnknownNameError(f"training method for {scenario}", method, list(table))
    return table[method]


def train_root() -> Path:
    """Where trained models live by default: ``$OFFLOADLAB_TRAIN_DIR`` or ``./train``."""
    return Path(os.environ.get(TRAIN_DIR_ENV) or "train")


def default_train_dir(scenario: str) -> Path:
    """The default output folder of a scenario's trainers (and where its trained solvers look)."""
    return train_root() / scenario


@dataclass(frozen=True)
class TrainingProfile:
    """A training profile as ``offloadlab train --help`` lists it: its meaning, the model of its ``--config``
    object (given lazily: a heavy module is imported only when the listing is asked for) and a line of the
    measured time and memory (read from the files a benchmark or a training run wrote)."""

    description: str
    config_model: Callable[[], type[BaseModel]]
    measured: Callable[[], str]


_PROFILES: dict[str, dict[str, TrainingProfile]] = {}


def register_profiles(scenario: str, profiles: Mapping[str, TrainingProfile]) -> None:
    """Declare the training profiles of a scenario's trainers (the first is the default)."""
    _PROFILES[scenario] = dict(profiles)


def profiles_for(scenario: str) -> dict[str, TrainingProfile]:
    """The declared training profiles of a scenario ({} when none)."""
    load_plugins()
    return dict(_PROFILES.get(scenario, {}))


def scenarios_with_trainers() -> list[str]:
    """The scenarios that registered at least one trainer, sorted."""
    load_plugins()
    return sorted({sc for sc, _ in _TRAINERS})
