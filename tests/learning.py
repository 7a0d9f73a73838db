"""The learners' common test: a trained policy beats its untrained self.

"Untrained self" is the same learner run with the same seed and budget while every torch optimiser's
step is a no-op (``frozen_optimisers``): the same initial networks, the same exploration schedule,
no learning. A learns-test therefore fails when the optimiser step (or the update that calls it) stops
working; ``tests/test_learners_learn.py`` checks that it does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def _optimisers() -> list[type]:
    """torch.optim.Optimizer and every subclass that defines its own ``step`` (Adam, RMSprop, ...)."""
    import torch

    found, todo = [], [torch.optim.Optimizer]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [cls for cls in found if "step" in vars(cls)]


@contextlib.contextmanager
def frozen_optimisers() -> Iterator[None]:
    """Inside the block every torch optimiser step does nothing, so no network changes its weights."""
    saved = [(cls, vars(cls)["step"]) for cls in _optimisers()]
    for cls, _ in saved:
        cls.step = lambda self, closure=None: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        for cls, step in saved:
            cls.step = step  # type: ignore[method-assign]


def untrained(run: Callable[[], Any]) -> Any:
    """``run()`` with its learner's optimiser steps turned off."""
    with frozen_optimisers():
        return run()


def assert_beats(trained: float, untrained_value: float, margin: float, what: str) -> None:
    """``trained`` lower (better) than ``untrained_value`` by at least ``margin`` (absolute)."""
    assert trained <= untrained_value - margin, (
        f"{what}: trained {trained:.6g} does not beat its untrained self {untrained_value:.6g} by {margin:g}"
    )
