"""Memory estimates before allocation: a configurable limit and one check every scenario and solver uses.

A scenario's parameter model declares how many bytes an instance of it needs (``MemoryEstimate``); the
check runs when the parameters are validated (``core.config.parse_model``), so ``instance``, ``evaluate``
and ``solve`` refuse an oversized instance in one line before any of its arrays exist. Solvers that
allocate more than one evaluation at once (a population, a grid of moves, a batch of simulator copies)
call ``check_batch`` with their batch size first.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from offloadlab.core.errors import InputError, excerpt

MEMORY_ENV = "OFFLOADLAB_MAX_MEMORY"
GIB = 2**30
# Default: half the machine's memory (the other half for the OS, other runs and what estimates miss),
# at most DEFAULT_CAP; FALLBACK where the machine's memory cannot be read.
DEFAULT_CAP = 64 * GIB
FALLBACK = 4 * GIB
UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


@runtime_checkable
class MemoryEstimate(Protocol):
    """Parameters that know the memory their instance needs (within a factor of about 2)."""

    def estimate_bytes(self, batch: int = 1) -> int:
        """Peak bytes of an instance of these parameters while ``batch`` decisions are evaluated at once."""
        ...


def parse_size(text: str, where: str = MEMORY_ENV) -> int:
    """Bytes of a size such as "4GiB", "500MB", "1.5 gb" or "1000000" (plain bytes); InputError otherwise."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in UNITS:
        raise InputError(where, f"expected a size such as 4GiB, 500MB or a number of bytes (got {excerpt(text)})")
    value = int(float(match.group(1)) * UNITS[unit])
    if value < 1:
        raise InputError(where, f"must be at least 1 byte (got {excerpt(text)})")
    return value


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit_bytes() -> int:
    """The memory one instance or solver may plan to use: $OFFLOADLAB_MAX_MEMORY, else half the machine's."""
    raw = os.environ.get(MEMORY_ENV, "")
    if raw.strip():
        return parse_size(raw)
    total = machine_memory_bytes()
    return min(total // 2, DEFAULT_CAP) if total else FALLBACK


def format_bytes(n: float) -> str:
    """A size for people: "1.86 TiB", "512 MiB", "3.2 KiB", "12 bytes"."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def check_memory(what: str, nbytes: float, subject: str = "this") -> None:
    """InputError naming ``what`` when ``nbytes`` exceeds the memory limit (checked before allocating)."""
    limit = memory_limit_bytes()
    if nbytes > limit:
        raise InputError(
            what,
            f"{subject} needs about {format_bytes(nbytes)} of memory, above the limit of {format_bytes(limit)} "
            f"(make it smaller, or set {MEMORY_ENV} or --max-memory to raise the limit)",
        )


def check_params(params: Any, where: str = "params") -> None:
    """Check the instance of validated parameters, if their model declares an estimate."""
    if isinstance(params, MemoryEstimate):
        check_memory(where, params.estimate_bytes(), "an instance of these parameters")


def check_batch(instance: Any, batch: int, what: str) -> None:
    """Check that ``batch`` decisions of ``instance`` can be evaluated (or simulated) at once."""
    params = getattr(instance, "params", None)
    if isinstance(params, MemoryEstimate):
        check_memory(what, params.estimate_bytes(batch), f"{batch} decisions at once on this instance")


def mlp_parameters(n_in: int, hidden: Sequence[int], n_out: int) -> int:
    """Weights and biases of a fully connected network with these layer widths."""
    sizes = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def learner_bytes(parameters: int, activations: int = 0, buffer_floats: int = 0) -> int:
    """Peak bytes of float32 training: each trained parameter five times (weights, gradient, two Adam moments,
    a target copy), each activation of a minibatch three times (forward, its gradient, the optimiser's
    temporaries) and the replay buffer's floats once."""
    return 4 * (5 * parameters + 3 * activations + buffer_floats)


def check_learner(what: str, parameters: int, activations: int = 0, buffer_floats: int = 0) -> None:
    """InputError naming ``what`` when a solver's networks, minibatches and replay buffer would exceed the
    memory limit: network sizes and buffers count against it like instances do, checked before allocating."""
    check_memory(what, learner_bytes(parameters, activations, buffer_floats), "training this solver")
