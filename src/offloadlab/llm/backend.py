"""The one small interface every LLM backend implements: a request in, a reply with accounting out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from offloadlab.core.errors import OffloadlabError


class LLMError(OffloadlabError):
    """A final LLM failure (unreachable endpoint, unknown model, missing cache entry): one clear line."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class TransientLLMError(Exception):
    """A failure worth retrying: ``kind`` is one of timeout, rate_limit, server_error, connection."""

    def __init__(self, kind: str, message: str, retry_after_s: float | None = None):
        self.kind = kind
        self.retry_after_s = retry_after_s
        super().__init__(f"{kind}: {message}")


class TokenBudgetExhausted(LLMError):
    """The per-run token budget is spent; the caller stops and returns what it has."""


@dataclass(frozen=True)
class Request:
    """One chat completion request; ``schema`` constrains the answer where the backend supports it."""

    messages: tuple[dict[str, str], ...]
    temperature: float = 1.0
    max_tokens: int = 512
    schema: dict[str, Any] | None = None
    seed: int | None = None
    purpose: str = "generate"  # for logs only; not part of the cache key
    n: int = 1  # answers wanted; a backend may return fewer

    def key(self) -> str:
        """Stable hash of everything that determines the answer (the cache key of record/replay)."""
        body: dict[str, Any] = {
            "messages": list(self.messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "schema": self.schema,
            "seed": self.seed,
        }
        if self.n != 1:  # absent for one answer, so that earlier recordings keep their keys
            body["n"] = self.n
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (written to recordings)."""
        return {
            "messages": list(self.messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "schema": self.schema,
            "seed": self.seed,
            "purpose": self.purpose,
            "n": self.n,
        }


@dataclass
class Reply:
    """The text of an answer (``texts``: all its samples) with its token counts and latency."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    model: str = ""
    finish_reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.texts = list(self.texts) or [self.text]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (written to recordings)."""
        out = {
            "text": self.text,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": self.seconds,
            "model": self.model,
            "finish_reason": self.finish_reason,
        }
        return {**out, "texts": self.texts} if len(self.texts) > 1 else out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        """Inverse of to_json."""
        return cls(
            str(data["text"]),
            int(data["prompt_tokens"]),
            int(data["completion_tokens"]),
            float(data["seconds"]),
            str(data.get("model", "")),
            str(data.get("finish_reason", "")),
            texts=[str(t) for t in data.get("texts", [])],
        )


class Backend(Protocol):
    """An LLM that answers chat requests. Raises TransientLLMError (retried) or LLMError (final)."""

    name: str
    model: str

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """Answer one request within ``timeout_s`` seconds."""
        ...


def structured_report(backend: Backend) -> dict[str, Any]:
    """A backend's structured-output report (mode used, whether it enforced the schema), where it keeps one."""
    report = getattr(backend, "structured_report", None)
    return report() if report is not None else {"structured_mode": backend.name, "structured_enforced": None}


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters a token) for servers that report no usage."""
    return max(1, (len(text) + 3) // 4)
