"""Structured output: the schema sent to the LLM, and parsing, validation and repair of its answers.

A malformed answer never becomes a decision: it is repaired only when the repair is unambiguous
(clip a continuous value to its bounds, let the scenario renormalise coupled values), otherwise it is
rejected with a message that can be fed back to the model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.problem import Repairable
from offloadlab.core.space import DecisionSpace
from offloadlab.llm.formats import AnswerFormat

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


class InvalidAnswer(Exception):
    """An answer that cannot be used; ``kind`` is not_json, wrong_shape, out_of_range or constraint."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


@dataclass(frozen=True)
class Repair:
    """One change made to an answer: ``action`` (clipped, rounded, renormalised) on ``field``, how many
    values it changed and by how much at most (in the field's own units)."""

    action: str
    field: str
    values: int
    amount: float

    @property
    def what(self) -> str:
        """Action and field, e.g. ``clipped omega_pct`` (the key repairs are counted under)."""
        return f"{self.action} {self.field}"

    def __str__(self) -> str:
        return f"{self.what}: {self.values} value(s), by up to {self.amount:.4g}"


@dataclass
class Checked:
    """A usable decision parsed from an answer, with the repairs applied to it."""

    decision: dict[str, np.ndarray]
    repairs: list[Repair] = field(default_factory=list)


def answer_schema(space: DecisionSpace, names: list[str] | None = None) -> dict[str, Any]:
    """The decision space's JSON Schema restricted to ``names`` and closed to other keys, so that a
    grammar-constrained model stops after the last field."""
    schema = space.json_schema()
    names = names or [f.name for f in space.fields]
    return {
        **schema,
        "properties": {n: schema["properties"][n] for n in names},
        "required": names,
        "additionalProperties": False,
    }


def parse_json(text: str) -> Any:
    """The JSON object in an answer: the whole text, a fenced block, or the outermost braces."""
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for cand in candidates:
        try:
            return json.loads(cand)
        except json.JSONDecodeError:
            continue
    snippet = text.strip().replace("\n", " ")
    snippet = snippet if len(snippet) <= 80 else f"{snippet[:40]} ... {snippet[-30:]}"
    raise InvalidAnswer("not_json", f"the answer is not a complete JSON object: '{snippet}'")


def check_answer(problem: Any, instance: Any, fmt: AnswerFormat, obj: Any) -> Checked:
    """Validate a parsed answer against its format and the problem's structural constraints, repairing
    what is unambiguous (each change recorded as a Repair); raises InvalidAnswer naming the broken field or
    constraint otherwise. The decision returned lies on the format's grid (what the model could write)."""
    space = fmt.space
    if not isinstance(obj, dict):
        raise InvalidAnswer("wrong_shape", f"expected a JSON object with keys {[f.name for f in space.fields]}")
    answer, clipped = _clipped_answer(space, fmt, dict(obj))
    repairs = [_repair("clipped", name, np.asarray(obj[name], dtype=float), answer[name]) for name in sorted(clipped)]
    decision = fmt.to_decision(answer)
    fixed = decision
    if isinstance(problem, Repairable):
        fixed = problem.repair(instance, {k: v[None] for k, v in decision.items()})
        fixed = {k: np.asarray(v)[0] for k, v in fixed.items()}
        for f in fmt.decision_space.fields:
            if f.integer and not np.array_equal(fixed[f.name], decision[f.name]):
                # which discrete choice to keep is not ours to guess
                idx = [int(i) for i in np.argwhere(fixed[f.name] != decision[f.name])[0]]
                broken = [c for c in fmt.decision_space.constraints if f.name in c] or ["a structural constraint"]
                raise InvalidAnswer("constraint", f"answer.{f.name} at index {idx} breaks: " + "; ".join(broken))
    gridded = {k: v[0] for k, v in fmt.quantise({k: np.asarray(v)[None] for k, v in fixed.items()}).items()}
    for f in fmt.decision_space.fields:
        action = "renormalised" if not np.array_equal(fixed[f.name], decision[f.name]) else "rounded"
        if not np.array_equal(gridded[f.name], decision[f.name]):
            repairs.append(_repair(action, f.name, decision[f.name], gridded[f.name]))
    return Checked(gridded, repairs)


def _clipped_answer(space: DecisionSpace, fmt: AnswerFormat, obj: dict[str, Any]) -> tuple[dict[str, np.ndarray], set]:
    """The validated answer arrays, with reals (also when written as scaled integers) clipped to their bounds
    (unambiguous), and the names clipped; InvalidAnswer for anything else."""
    clipped: set[str] = set()
    clippable = {f.name for f in space.fields if not f.integer} | {sc.name for sc in fmt.scales.values()}
    while True:
        try:
            answer = space.validate(obj, where="answer")
            break
        except InputError as exc:
            name = exc.field.removeprefix("answer.")
            f = next((f for f in space.fields if f.name == name), None)
            if f is None or name not in clippable or "outside the allowed range" not in exc.message or name in clipped:
                kind = "out_of_range" if ("range" in exc.message or "integers" in exc.message) else "wrong_shape"
                raise InvalidAnswer(kind, str(exc)) from None
            obj[name] = np.clip(np.asarray(obj[name], dtype=float), f.low, f.high).tolist()
            clipped.add(name)
    for f in space.fields:  # bounds a space declares soft pass validate(); an answer must meet them all
        arr = answer[f.name]
        if f.name in clippable and (arr > f.high).any():
            answer[f.name] = arr = np.minimum(arr, f.high)
            clipped.add(f.name)
        if f.integer:
            bad = (arr != np.round(arr)) | (arr < f.low) | (arr > f.high)
            if bad.any():
                idx = [int(i) for i in np.argwhere(bad)[0]]
                raise InvalidAnswer(
                    "out_of_range",
                    f"answer.{f.name}: value {arr[tuple(idx)]:g} at index {idx} "
                    f"is not an integer in [{f.low:g}, {f.high:g}]",
                )
    return answer, clipped


def _repair(action: str, name: str, before: np.ndarray, after: np.ndarray) -> Repair:
    """The Repair that changed ``before`` into ``after``."""
    diff = np.abs(np.asarray(after, dtype=float) - np.asarray(before, dtype=float))
    return Repair(action, name, int(np.count_nonzero(diff)), float(diff.max(initial=0.0)))


def answer_max_tokens(space: DecisionSpace) -> int:
    """A completion-token cap that fits a full answer: about 3 tokens per integer, 9 per real."""
    return 32 + sum(16 + f.size * (3 if f.integer else 9) for f in space.fields)
