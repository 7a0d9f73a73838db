"""What every learning method shares: torch seeding and thread policy, a progress bar, checkpoint file
names, one Stable-Baselines3 callback, and the base of the documented hyper-parameter models.

Thread policy: the networks here are small MLPs, for which one torch thread is as fast as several and
leaves the other cores to parallel runs; a method may ask for more with its ``threads`` option.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from offloadlab.core.config import StrictModel
from offloadlab.core.errors import InputError

StepHook = Callable[[int, Mapping[str, Any]], None]  # (timesteps so far, SB3's locals of the step)


class HyperParams(StrictModel):
    """Base of a learning method's hyper-parameters: every field typed, bounded and documented."""


def seed_torch(rng: np.random.Generator, threads: int = 1) -> int:
    """Seed torch from the solver's generator (one draw) and set its thread count; returns the seed."""
    import torch

    seed = int(rng.integers(2**31 - 1))
    torch.manual_seed(seed)
    torch.set_num_threads(int(threads))
    return seed


@contextlib.contextmanager
def torch_threads(threads: int = 1) -> Iterator[None]:
    """Use ``threads`` torch threads inside the block, then restore the previous count."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def training_progress(what: str, total: int, enabled: bool = True) -> Iterator[Callable[..., None]]:
    """A rich progress bar on stderr (shown only on a terminal); yields ``update(done, note="")``."""
    console = Console(stderr=True)
    bar = Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
        disable=not (enabled and console.is_terminal),
        transient=True,
    )
    task = bar.add_task(what, total=total, note="")
    with bar:
        yield lambda done, note="": bar.update(task, completed=done, note=note)


def checkpoint_file(template: str | None, fields: Mapping[str, Any], suffix: str = "") -> Path | None:
    """The checkpoint path of a run: ``template`` may name ``fields`` (e.g. ``ckpt/marl_N{N}_s{seed}.pt``),
    so one sweep keeps one policy per configuration; ``suffix`` is appended when missing (SB3 writes .zip)."""
    if not template:
        return None
    try:
        path = Path(template.format(**fields))
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            "option checkpoint", f"'{template}' names {exc}, which is not a field (allowed: {', '.join(fields)})"
        ) from None
    return path if not suffix or path.suffix == suffix else path.with_name(path.name + suffix)


def sb3_callback(on_step: StepHook, on_end: Callable[[], None] | None = None) -> Any:
    """One Stable-Baselines3 callback for every method: ``on_step(timesteps, locals)`` after each env
    step, ``on_end()`` when training ends."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Hooks(BaseCallback):
        def _on_step(self) -> bool:
            on_step(self.num_timesteps, self.locals)
            return True

        def _on_training_end(self) -> None:
            if on_end is not None:
                on_end()

    return Hooks()
