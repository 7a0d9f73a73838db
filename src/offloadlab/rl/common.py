"""What every learning method shares: torch seeding and thread policy, a progress bar, checkpoint file
names, one Stable-Baselines3 callback, and the base of the documented hyper-parameter models.

Thread policy: the networks here are small MLPs, for which one torch thread is as fast as several and
leaves the other cores to parallel runs; a method may ask for more with its ``threads`` option.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
from pydantic import Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError

T = TypeVar("T")
StepHook = Callable[[int, Mapping[str, Any]], None]  # (timesteps so far, SB3's locals of the step)


class HyperParams(StrictModel):
    """Base of a learning method's hyper-parameters: every field typed, bounded and documented.

    A method declares one subclass whose field defaults are the documented values (with the reason for
    each), and its solver's keyword options take their defaults from an instance of it, so a value is
    written once. Bounds are sanity limits: a value outside them is a typo, not a setting."""


H = TypeVar("H", bound=HyperParams)


def settings_of(cls: type[H], options: Mapping[str, Any]) -> H:
    """The settings model ``cls`` from a solver's options (e.g. its ``locals()``): every option that names a
    field, validated; the other fields keep their documented defaults."""
    return parse_model(cls, {k: v for k, v in options.items() if k in cls.model_fields}, "option")


# Bounded types shared by the learners' settings and their solvers' options (core.options builds each
# solver's option model from its annotated signature).
Width = Annotated[int, Field(ge=1, le=4096)]
Hidden = Annotated[Sequence[Width], Field(min_length=1, max_length=8, description="hidden layer widths")]
LearningRate = Annotated[float, Field(gt=0, le=1, description="optimiser learning rate")]
Gamma = Annotated[float, Field(ge=0, le=1, description="discount factor")]
BatchSize = Annotated[int, Field(ge=1, le=65_536, description="replay minibatch size")]
Threads = Annotated[int, Field(ge=1, le=64, description="torch threads")]


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


def load_checkpoint(path: Path, expected: str, loader: Callable[[Path], T]) -> T:
    """``loader(path)``, or one line naming the file and what it should hold (``expected``, e.g. "a marl
    checkpoint (torch .pt)") when it is missing, not a file, empty, corrupt or written by something else."""
    where = f"checkpoint {path}"
    if not path.exists():
        raise InputError(where, f"not found (expected {expected})")
    if not path.is_file():
        raise InputError(where, f"is not a file (expected {expected})")
    if path.stat().st_size == 0:
        raise InputError(where, f"is empty (expected {expected})")
    try:
        return loader(path)
    except InputError:
        raise
    except Exception as exc:  # torch, zipfile, pickle and SB3 raise many unrelated types on a foreign file
        # the library's first sentence says which check failed; torch appends paragraphs of advice
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "").split(". ")[0][:160]
        reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise InputError(where, f"truncated, corrupt or of another kind (expected {expected}); {reason}") from None


def read_json_checkpoint(path: Path, expected: str) -> dict[str, Any]:
    """A JSON object written by a training run (its state or summary), through ``load_checkpoint``."""

    def read(file: Path) -> dict[str, Any]:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        return data

    return load_checkpoint(path, expected, read)


def check_checkpoint(path: Path, expected: str, found: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """InputError naming the file when a checkpoint's recorded settings differ from this run's."""
    for key, want in wanted.items():
        if found.get(key) != want:
            raise InputError(
                f"checkpoint {path}",
                f"holds {key}={found.get(key)!r}, this run needs {key}={want!r} (expected {expected} "
                "of this run's settings)",
            )


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
