"""Answer formats: the decision as a model writes it.

The raw format is the decision space itself. A scenario's prompt folder may declare, in its wording's
``format.json``, one-hot fields to be written as choice lists instead: an integer 0/1 field of shape
[A, B] with at most one 1 per column becomes B integers in 0..A (0 = none, k = row k - 1), so that the
"at most one" constraint cannot be broken by construction and the answer is B tokens instead of A x B;
and real fields to be written as scaled integers (e.g. power in W as integer mW: "71" is 2 tokens where
"0.0709" is 6), which halves a small model's answer and so its time per call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.space import ArrayField, DecisionSpace


@dataclass(frozen=True)
class Choice:
    """Write decision field ``field`` (0/1, [A, B], at most one 1 per column) as answer key ``name`` (B choices)."""

    field: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class Scale:
    """Write real decision field ``field`` as answer key ``name``: integers equal to the value times ``factor``."""

    field: str
    name: str
    factor: float
    description: str = ""


class AnswerFormat:
    """Maps answers to decisions and back; ``space`` is the answer's own space (schema, validation)."""

    def __init__(self, decision_space: DecisionSpace, choices: Sequence[Choice] = (), scales: Sequence[Scale] = ()):
        self.decision_space = decision_space
        self.choices = {c.field: c for c in choices}
        self.scales = {s.field: s for s in scales}
        fields = []
        for f in decision_space.fields:
            c, sc = self.choices.get(f.name), self.scales.get(f.name)
            if sc is not None:
                if f.integer or not sc.factor > 0:
                    raise InputError("prompt format", f"'{f.name}' must be a real field with a factor > 0 to be scaled")
                low, high = np.ceil(f.low * sc.factor), np.floor(f.high * sc.factor)
                fields.append(ArrayField(sc.name, f.shape, low, high, integer=True, description=sc.description))
                continue
            if c is None:
                fields.append(f)
                continue
            if len(f.shape) != 2 or not f.integer or (f.low, f.high) != (0, 1):
                raise InputError("prompt format", f"'{f.name}' is not a 0/1 matrix, so it cannot be a choice list")
            fields.append(ArrayField(c.name, (f.shape[1],), 0, f.shape[0], integer=True, description=c.description))
        # the constraints on choice fields hold by construction: the model is not asked to keep them
        kept = tuple(t for t in decision_space.constraints if not any(name in t for name in self.choices))
        self.space = DecisionSpace(tuple(fields), kept)

    @classmethod
    def load(cls, decision_space: DecisionSpace, path: Path) -> AnswerFormat:
        """The format declared in ``path`` (``{"choices": [{"field", "name", "description"}], "scales": [{"field",
        "name", "factor", "description"}]}``), raw if absent."""
        if not path.is_file():
            return cls(decision_space)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            decision_space,
            [Choice(**c) for c in data.get("choices", [])],
            [Scale(**c) for c in data.get("scales", [])],
        )

    def to_decision(self, answer: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The decision of one validated answer."""
        out = {}
        for f in self.decision_space.fields:
            c, sc = self.choices.get(f.name), self.scales.get(f.name)
            if sc is not None:
                out[f.name] = np.asarray(answer[sc.name], dtype=float) / sc.factor
            elif c is None:
                out[f.name] = np.asarray(answer[f.name])
            else:
                rows = np.arange(1, f.shape[0] + 1)[:, None]
                out[f.name] = (rows == np.asarray(answer[c.name])[None, :]).astype(float)
        return out

    def from_decision(self, decision: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The answer that writes one (structurally valid) decision."""
        out = {}
        for f in self.decision_space.fields:
            c, sc = self.choices.get(f.name), self.scales.get(f.name)
            arr = np.asarray(decision[f.name])
            if sc is not None:  # rounding down keeps sum budgets met
                out[sc.name] = np.floor(arr * sc.factor + 1e-9)
            else:
                out[c.name if c else f.name] = np.where(arr.any(axis=0), arr.argmax(axis=0) + 1, 0) if c else arr
        return out

    def quantise(self, decisions: Mapping[str, np.ndarray], digits: int = 4) -> dict[str, np.ndarray]:
        """A batch of decisions rounded (down, within bounds) to what this format can write, so that a decision
        shown to the model as text is exactly the decision that was evaluated."""
        out = {}
        for f in self.decision_space.fields:
            arr = np.asarray(decisions[f.name])
            sc = self.scales.get(f.name)
            scale = sc.factor if sc is not None else 10.0**digits
            out[f.name] = arr if f.integer else np.clip(np.floor(arr * scale + 1e-9) / scale, f.low, f.high)
        return out

    def text(self, decision: Mapping[str, np.ndarray], digits: int = 4) -> str:
        """Compact JSON of a decision as the model writes it: integers as integers, reals rounded."""
        answer = self.from_decision(decision)
        out: dict[str, Any] = {
            f.name: (
                np.asarray(answer[f.name]).astype(int).tolist()
                if f.integer
                else np.round(np.asarray(answer[f.name], dtype=float), digits).tolist()
            )
            for f in self.space.fields
        }
        return json.dumps(out, separators=(",", ":"))
