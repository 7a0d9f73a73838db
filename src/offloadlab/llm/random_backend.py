"""The random-proposal control: a "model" that answers with a uniform draw from the answer's JSON Schema.

Run in place of an LLM through the same optimizer loop (pool, prompts, validation, repair, accounting), it
tells what the loop achieves with proposals that read nothing: an LLM must beat it to be said to help.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from offloadlab.llm.backend import LLMError, Reply, Request


def draw(schema: dict[str, Any], rng: np.random.Generator) -> Any:
    """A uniform draw from a schema of objects, fixed-length arrays and bounded integers/numbers."""
    kind = schema.get("type")
    if kind == "object":
        return {name: draw(sub, rng) for name, sub in schema["properties"].items()}
    if kind == "array":
        return [draw(schema["items"], rng) for _ in range(int(schema["minItems"]))]
    low, high = schema["minimum"], schema["maximum"]
    if kind == "integer":
        return int(rng.integers(int(low), int(high) + 1))
    return round(float(rng.uniform(low, high)), 4)


class RandomBackend:
    """Answers every request with ``request.n`` uniform draws from its schema (structured output required)."""

    name = "random"
    model = "uniform"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def structured_report(self) -> dict[str, Any]:
        """Every answer is a draw from the schema: it meets it by construction."""
        return {"structured_mode": "schema_draw", "structured_enforced": True, "structured_source": "configured"}

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """Uniform answers; seeded by the request's seed when it has one."""
        if request.schema is None:
            raise LLMError(
                "llm-backend random", "the random control draws from the answer schema: use structured output"
            )
        rng = np.random.default_rng(request.seed) if request.seed is not None else self.rng
        texts = [json.dumps(draw(request.schema, rng), separators=(",", ":")) for _ in range(request.n)]
        return Reply(texts[0], 0, 0, 0.0, self.model, "stop", texts=texts)
