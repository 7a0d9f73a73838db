"""What the learning solvers share: seeding, a training progress bar, checkpoint checks, evaluation."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

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


def checkpoint_meta(params: DtVehicularParams, method: str, **extra: Any) -> dict[str, Any]:
    """What a checkpoint must match to be reused: method, N, K and the network settings."""
    return {"method": method, "N": params.N, "K": params.K, **extra}


def check_checkpoint(path: Path, found: dict[str, Any], expected: dict[str, Any]) -> None:
    """InputError naming the option when a checkpoint was trained for another setting."""
    for key, want in expected.items():
        if found.get(key) != want:
            raise InputError("option checkpoint", f"'{path}' holds a policy with {key}={found.get(key)!r}, "
                                                  f"this run needs {key}={want!r}")
