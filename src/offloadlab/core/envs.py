"""Registering a scenario's environments: Gymnasium ids for single-agent envs, and a factory table for
PettingZoo parallel envs (PettingZoo has no registry of its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium

from offloadlab.core.errors import UnknownNameError

_PARALLEL: dict[str, Callable[..., Any]] = {}


def register_gym(env_id: str, entry_point: str | Callable[..., Any]) -> None:
    """Register a Gymnasium env once (``gymnasium.make(env_id, **kwargs)`` then builds it)."""
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, entry_point=entry_point)


def register_parallel_env(env_id: str, factory: Callable[..., Any]) -> None:
    """Register a PettingZoo parallel-env factory under an id."""
    _PARALLEL[env_id] = factory


def make_parallel_env(env_id: str, **kwargs: Any) -> Any:
    """Build a registered PettingZoo parallel env, e.g. ``make_parallel_env("offloadlab/dt-vehicular-parallel-v0")``."""
    from offloadlab.core.registry import load_plugins

    load_plugins()
    if env_id not in _PARALLEL:
        raise UnknownNameError("parallel env", env_id, list(_PARALLEL))
    return _PARALLEL[env_id](**kwargs)


def parallel_env_ids() -> list[str]:
    """Ids of the registered PettingZoo parallel envs."""
    return sorted(_PARALLEL)
