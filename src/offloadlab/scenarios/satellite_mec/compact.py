"""The compact instance text and the one-token questions of the tuned optimizer (``llm-tuned``, an extension).

A decision is written terminal by terminal as two one-token answers: the terminal's target (``0`` = local,
``m`` = satellite m) and, when it offloads, the one sub-channel that carries its whole power budget (a digit
1..I). Reference solutions put a terminal's power on one sub-channel almost always (measured on (3, 5, 4)
and (3, 10, 4): the one-hot version of `reference`'s decision is within 1.5 % of it), so this loses little
and keeps every answer one token for M, I <= 9.

The prompt of a question: the system line, then the instance table (every question of an instance shares
it, so it is computed once: llama.cpp keeps it in its cache, training packs the questions of an instance
into one sequence), then the answers given so far and the question. Per terminal the table has its local
latency and, per satellite, its upload time alone on its best sub-channel at full power (both in units of
10 ms) and its sub-channels ranked by SNR to that satellite, best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.satellite_mec.model import SatMecInstance

SYSTEM = "Offload IoT tasks to LEO satellites: answer one digit, the target (0 = local) or the sub-channel."
ANSWERS = tuple(str(d) for d in range(10))  # every question's choices are digits (one token each)
MAX_CHOICES = 9  # satellites and sub-channels are answered with one digit
Question = Literal["target", "channel"]
Choice = tuple[int, int]  # (target 0..M, sub-channel 1..I, 0 when local)


def check_size(inst: SatMecInstance) -> None:
    """One-digit answers need M <= 9 and I <= 9 (InputError naming the parameter otherwise)."""
    for name, value in (("M", inst.params.M), ("I", inst.params.I)):
        if value > MAX_CHOICES:
            raise InputError(
                f"params.{name}", f"the tuned optimizer answers one digit: at most {MAX_CHOICES} (got {value})"
            )


def _cs(seconds: float) -> str:
    """A time in units of 10 ms, as an integer."""
    return str(int(round(min(seconds, 99.99) * 100)))


def compact_table(inst: SatMecInstance) -> str:
    """The instance in one line per terminal: ``T<n> L<local> | <upload> <channels by SNR> | ...``."""
    p = inst.params
    snr = p.p_max_w * inst.gain / inst.noise_w  # [M, N, I]
    rate = p.bandwidth_hz * np.log2(1.0 + snr.max(axis=2))  # [M, N]
    upload = inst.data_bits[None, :] / rate
    rank = np.argsort(-snr, axis=2, kind="stable") + 1
    head = f"{p.M} satellites, {p.I} sub-channels, {p.N} terminals; times in 10 ms"
    rows = []
    for n in range(p.N):
        sats = " | ".join(f"{_cs(upload[m, n])} {''.join(map(str, rank[m, n]))}" for m in range(p.M))
        rows.append(f"T{n + 1} L{_cs(inst.local_latency_s[n])} | {sats}")
    return "\n".join([head, *rows])


def decided_text(choices: Sequence[Choice]) -> str:
    """The answers so far: ``1:s2c4 2:s0 ...`` (``s`` the target, ``c`` the sub-channel)."""
    return " ".join(f"{n + 1}:s{t}" + (f"c{c}" if t and c else "") for n, (t, c) in enumerate(choices))


def question_messages(table: str, choices: Sequence[Choice], terminal: int, question: Question) -> list[dict[str, str]]:
    """The chat prompt of one question about ``terminal`` (0-based) after the answers ``choices`` (for a
    channel question, the terminal's own target is the last of them, with sub-channel 0)."""
    so_far = decided_text(choices)
    ask = f"T{terminal + 1} {'target' if question == 'target' else 'sub-channel'}?"
    user = f"{table}\ndecided: {so_far}\n{ask}" if so_far else f"{table}\n{ask}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def valid_answers(inst: SatMecInstance, question: Question) -> list[str]:
    """The digits a question allows: 0..M for a target, 1..I for a sub-channel."""
    return [str(d) for d in (range(inst.params.M + 1) if question == "target" else range(1, inst.params.I + 1))]


def choices_of(offload: np.ndarray, power: np.ndarray) -> list[Choice]:
    """Per terminal (target, sub-channel) of a decision: its satellite (0 = local) and its strongest
    sub-channel (the label of a reference decision)."""
    a, pw = np.asarray(offload, dtype=float), np.asarray(power, dtype=float)
    on = a.sum(axis=0) > 0.5
    target = np.where(on, a.argmax(axis=0) + 1, 0)
    channel = np.where(on, pw.argmax(axis=1) + 1, 0)
    return [(int(t), int(c)) for t, c in zip(target, channel)]


def decision_of(inst: SatMecInstance, choices: Sequence[Choice]) -> dict[str, np.ndarray]:
    """The decision of per-terminal choices: one-hot offload, the whole power budget on the chosen sub-channel."""
    p = inst.params
    if len(choices) != p.N:
        raise InputError("choices", f"one choice per terminal: {p.N} expected, got {len(choices)}")
    offload, power = np.zeros((p.M, p.N)), np.zeros((p.N, p.I))
    for n, (t, c) in enumerate(choices):
        if not (0 <= t <= p.M and (t == 0 or 1 <= c <= p.I)):
            raise InputError("choices", f"terminal {n + 1}: target {t} / sub-channel {c} out of range")
        if t:
            offload[t - 1, n] = 1.0
            power[n, c - 1] = p.p_max_w
    return {"offload": offload, "power_w": power}
