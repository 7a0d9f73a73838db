"""Record any backend's answers to a JSON-lines cache, and answer from such a cache (offline, deterministic).

Each line holds the request's key, the request and the reply. A request asked several times (the same
prompt at temperature 1 can get different answers) is answered with its recorded replies in order.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError
from offloadlab.llm.backend import Backend, LLMError, Reply, Request, structured_report


class RecordingBackend:
    """Wraps a backend and appends every successful call to ``path`` as it happens."""

    def __init__(self, inner: Backend, path: str | Path):
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _check_appendable(self.path)  # calls are appended: an existing file is never overwritten

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """Answer through the inner backend and record the exchange."""
        reply = self.inner.complete(request, timeout_s)
        line = {
            "key": request.key(),
            "backend": self.name,
            "model": self.model,
            "request": request.to_json(),
            "reply": reply.to_json(),
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, sort_keys=True) + "\n")
        return reply

    def structured_report(self) -> dict[str, Any]:
        """The inner backend's structured-output report."""
        return structured_report(self.inner)


def _check_appendable(path: Path) -> None:
    """InputError unless ``path`` is new, empty or already a recording (its first line a recorded call)."""
    if path.is_dir():
        raise InputError("llm-record", f"'{path}' is a folder (give a file name)")
    if not path.exists():
        return
    with path.open("rb") as fh:
        first = fh.readline(1 << 20).strip()
    try:
        ok = not first or "key" in json.loads(first)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise InputError("llm-record", f"'{path}' exists and is not a recording (calls are appended, never overwrite)")


class ReplayBackend:
    """Answers from a recording; a request that was never recorded is a clear, final error."""

    name = "replay"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("llm-replay", f"file '{self.path}' not found")
        self.replies: dict[str, list[Reply]] = defaultdict(list)
        models = set()
        for n, raw in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                self.replies[line["key"]].append(Reply.from_json(line["reply"]))
                models.add(line.get("model", ""))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                raise InputError("llm-replay", f"'{self.path}' line {n} is not a recorded call") from None
        self.model = ",".join(sorted(models)) or "replay"
        self.used: dict[str, int] = defaultdict(int)

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """The next recorded reply to this exact request."""
        key = request.key()
        k = self.used[key]
        if k >= len(self.replies.get(key, ())):
            raise LLMError(
                "llm-replay",
                f"'{self.path}' has no recorded answer for this {request.purpose} request "
                f"(occurrence {k + 1}); it was recorded with another instance, seed, "
                "prompt or option",
            )
        self.used[key] += 1
        return self.replies[key][k]
