"""A test plug-in: the solver ``counted`` for satellite-mec is ``random`` that first appends one line per
execution to $OFFLOADLAB_COUNT_FILE and then sleeps $OFFLOADLAB_COUNT_SLEEP seconds, so tests can count how
often each run really executed (across processes) and make runners overlap."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import numpy as np

from offloadlab.core.registry import get_solver, register_solver
from offloadlab.core.result import Result


@register_solver("counted", "satellite-mec", "random choice, counting its executions (tests)")
def counted(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator) -> Result:
    """Record (pid, the generator's initial state: one per solver seed) with O_APPEND, sleep, then solve
    like ``random``."""
    line = json.dumps({"pid": os.getpid(), "run": str(rng.bit_generator.state["state"]["state"])}) + "\n"
    fd = os.open(os.environ["OFFLOADLAB_COUNT_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
    time.sleep(float(os.environ.get("OFFLOADLAB_COUNT_SLEEP", "0")))
    fn = get_solver("satellite-mec", "random").fn
    return fn(problem, instance, budget, rng)  # type: ignore[no-any-return]
