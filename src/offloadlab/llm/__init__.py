"""The LLM layer: backends behind one interface, constrained and validated output, accounting, record/replay."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.errors import InputError
from offloadlab.llm.backend import Backend, LLMError, Reply, Request, TokenBudgetExhausted, TransientLLMError
from offloadlab.llm.client import LLMClient, Usage

BACKENDS = ("embedded", "openai", "replay")

__all__ = ["BACKENDS", "Backend", "LLMClient", "LLMError", "Reply", "Request", "TokenBudgetExhausted",
           "TransientLLMError", "Usage", "make_backend"]


def make_backend(kind: str | None = None, *, model: str | None = None, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", threads: int | None = None,
                 record: str | Path | None = None, replay: str | Path | None = None) -> Backend:
    """Build a backend by name; ``replay`` implies the replay backend, ``record`` wraps any backend."""
    kind = kind or ("replay" if replay else "embedded")
    if kind not in BACKENDS:
        raise InputError("llm-backend", f"unknown backend '{kind}' (allowed: {', '.join(BACKENDS)})")
    if base_url and kind != "openai":
        raise InputError("llm-base-url", f"only used with --llm-backend openai (got --llm-backend {kind})")
    if kind == "replay":
        if not replay:
            raise InputError("llm-replay", "required with --llm-backend replay (a file written by --llm-record)")
        from offloadlab.llm.replay import ReplayBackend

        backend: Backend = ReplayBackend(replay)
    elif replay:
        raise InputError("llm-replay", f"only used with --llm-backend replay (got --llm-backend {kind})")
    elif kind == "openai":
        from offloadlab.llm.openai_backend import OpenAIBackend

        backend = OpenAIBackend(model, base_url, api_key_env)
    else:
        from offloadlab.llm.embedded import EmbeddedBackend

        backend = EmbeddedBackend(model, threads)
    if record:
        from offloadlab.llm.replay import RecordingBackend

        backend = RecordingBackend(backend, record)
    return backend
