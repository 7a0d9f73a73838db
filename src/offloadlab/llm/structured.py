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


@dataclass
class Checked:
    """A usable decision parsed from an answer, with the repairs applied to it."""

    decision: dict[str, np.ndarray]
    repairs: list[str] = field(default_factory=list)


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
    what is unambiguous; raises InvalidAnswer naming the broken field or constraint otherwise."""
    space = fmt.space
    if not isinstance(obj, dict):
        raise InvalidAnswer("wrong_shape", f"expected a JSON object with keys {[f.name for f in space.fields]}")
    obj, clipped = dict(obj), set()
    # reals, also when written as scaled integers: clipping them to their bounds is unambiguous
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
    repairs = [f"clipped {name}" for name in sorted(clipped)]
    decision = fmt.to_decision(answer)
    if isinstance(problem, Repairable):
        fixed = problem.repair(instance, {k: v[None] for k, v in decision.items()})
        fixed = {k: np.asarray(v)[0] for k, v in fixed.items()}
        for f in fmt.decision_space.fields:
            if np.array_equal(fixed[f.name], decision[f.name]):
                continue
            if f.integer:  # which discrete choice to keep is not ours to guess
                idx = [int(i) for i in np.argwhere(fixed[f.name] != decision[f.name])[0]]
                broken = [c for c in fmt.decision_space.constraints if f.name in c] or ["a structural constraint"]
                raise InvalidAnswer("constraint", f"answer.{f.name} at index {idx} breaks: " + "; ".join(broken))
            repairs.append(f"renormalised {f.name}")
        decision = fixed
    return Checked(decision, repairs)


def answer_max_tokens(space: DecisionSpace) -> int:
    """A completion-token cap that fits a full answer: about 3 tokens per integer, 9 per real."""
    return 32 + sum(16 + f.size * (3 if f.integer else 9) for f in space.fields)
