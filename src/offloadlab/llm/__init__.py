"""The LLM layer: backends behind one interface, constrained and validated output, accounting, record/replay."""

from __future__ import annotations

from collections.abc import Callable

from offloadlab.core.errors import InputError
from offloadlab.llm.backend import Backend, LLMError, Reply, Request, TokenBudgetExhausted, TransientLLMError
from offloadlab.llm.client import LLMClient, Usage
from offloadlab.llm.options import LLMOptions, llm_method, parse_llm_options

BACKENDS = ("embedded", "openai", "replay", "random")

__all__ = [
    "BACKENDS",
    "Backend",
    "LLMClient",
    "LLMError",
    "LLMOptions",
    "Reply",
    "Request",
    "TokenBudgetExhausted",
    "TransientLLMError",
    "Usage",
    "llm_method",
    "make_backend",
    "make_client",
    "parse_llm_options",
]


def make_backend(options: LLMOptions) -> Backend:
    """Build the options' backend; ``replay`` implies the replay backend, ``record`` wraps any backend."""
    kind = options.backend or ("replay" if options.replay else "embedded")
    if options.base_url and kind != "openai":
        raise InputError("llm-base-url", f"only used with --llm-backend openai (got --llm-backend {kind})")
    if kind == "replay":
        if not options.replay:
            raise InputError("llm-replay", "required with --llm-backend replay (a file written by --llm-record)")
        from offloadlab.llm.replay import ReplayBackend

        backend: Backend = ReplayBackend(options.replay)
    elif options.replay:
        raise InputError("llm-replay", f"only used with --llm-backend replay (got --llm-backend {kind})")
    elif kind == "openai":
        from offloadlab.llm.openai_backend import OpenAIBackend

        backend = OpenAIBackend(
            options.model,
            options.base_url,
            options.api_key_env,
            options.structured,
            options.max_tokens_param,
            options.extra,
        )
    elif kind == "random":
        from offloadlab.llm.random_backend import RandomBackend

        backend = RandomBackend()
    else:
        from offloadlab.llm.embedded import EmbeddedBackend

        backend = EmbeddedBackend(options.model, options.threads, options.extra)
    if options.record:
        from offloadlab.llm.replay import RecordingBackend

        backend = RecordingBackend(backend, options.record)
    return backend


def make_client(
    options: LLMOptions, backend: Backend | None = None, on_call: Callable[[Reply], None] | None = None
) -> LLMClient:
    """A client with the options' transport settings around ``backend`` (default: the options' backend)."""
    return LLMClient(
        backend or make_backend(options),
        timeout_s=options.timeout,
        max_retries=options.retries,
        backoff_s=options.backoff,
        token_budget=options.token_budget,
        on_call=on_call,
    )
