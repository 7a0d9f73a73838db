"""What the learning solvers share: seeding, a training progress bar, checkpoint checks, evaluation."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from pydantic import Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from offloadlab.core.config import StrictModel
from offloadlab.core.errors import InputError
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams


def seed_torch(rng: np.random.Generator) -> int:
    """Seed torch from the solver's generator, on one thread (the machine is shared; also deterministic)."""
    import torch

    seed = int(rng.integers(2**31 - 1))
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    return seed


@contextlib.contextmanager
def training_progress(what: str, total: int, enabled: bool = True) -> Iterator[Any]:
    """A rich progress bar on stderr; yields ``update(done, **fields)``."""
    console = Console(stderr=True)
    bar = Progress(TextColumn(f"[bold]{what}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   TimeElapsedColumn(), TextColumn("{task.fields[note]}"), console=console,
                   disable=not (enabled and console.is_terminal), transient=True)
    task = bar.add_task(what, total=total, note="")
    with bar:
        yield lambda done, note="": bar.update(task, completed=done, note=note)


def checkpoint_path(template: str | None, params: DtVehicularParams, seed: int) -> Path | None:
    """The checkpoint file; ``template`` may name instance fields, e.g. ``ckpt/marl_N{N}_df{delta_f}.pt``,
    so that one sweep keeps one policy per configuration."""
    if not template:
        return None
    try:
        return Path(template.format(**params.model_dump(), seed=seed))
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError("option checkpoint", f"'{template}' names {exc} which is not an instance field "
                                              f"(allowed: {', '.join(params.model_dump())}, seed)") from None


def checkpoint_meta(params: DtVehicularParams, method: str, **extra: Any) -> dict[str, Any]:
    """What a checkpoint must match to be reused: method, N, K and the network settings."""
    return {"method": method, "N": params.N, "K": params.K, **extra}


def check_checkpoint(path: Path, found: dict[str, Any], expected: dict[str, Any]) -> None:
    """InputError naming the option when a checkpoint was trained for another setting."""
    for key, want in expected.items():
        if found.get(key) != want:
            raise InputError("option checkpoint", f"'{path}' holds a policy with {key}={found.get(key)!r}, "
                                                  f"this run needs {key}={want!r}")


class IclSettings(StrictModel):
    """Numeric options of llm-icl, validated with errors that name the option."""

    neighbours: int = Field(3, ge=1, le=100, description="cases shown per prompt")
    case_episodes: int = Field(2, ge=1, le=1000, description="MARL episodes collected into the case set")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
