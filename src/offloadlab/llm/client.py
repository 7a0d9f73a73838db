"""Retries with backoff, a per-run token budget and per-call accounting around any backend."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from offloadlab.llm.backend import Backend, LLMError, Reply, Request, TokenBudgetExhausted, TransientLLMError


@dataclass
class Usage:
    """What a run spent on the LLM: calls, tokens, seconds, and transport faults by kind."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    faults: Counter = field(default_factory=Counter)
    transport_retries: int = 0

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def stats(self) -> dict[str, Any]:
        """The accounting block of a solver's stats."""
        return {
            "llm_calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "llm_seconds": round(self.seconds, 3),
            "transport_faults": dict(sorted(self.faults.items())),
            "transport_retries": self.transport_retries,
        }


class LLMClient:
    """Sends requests to a backend, retrying transient faults with exponential backoff.

    ``on_call(reply)`` runs after every successful call (the solver feeds its Tracker from it).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        token_budget: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_call: Callable[[Reply], None] | None = None,
    ):
        self.backend = backend
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.token_budget = token_budget
        self.sleep = sleep
        self.on_call = on_call
        self.usage = Usage()

    def complete(self, request: Request) -> Reply:
        """Answer ``request``; raises TokenBudgetExhausted or LLMError when no answer can be had."""
        if self.token_budget is not None and self.usage.tokens >= self.token_budget:
            raise TokenBudgetExhausted("llm-token-budget", f"{self.usage.tokens} of {self.token_budget} tokens spent")
        for attempt in range(self.max_retries + 1):
            try:
                reply = self.backend.complete(request, self.timeout_s)
                break
            except TransientLLMError as exc:
                self.usage.faults[exc.kind] += 1
                if attempt == self.max_retries:
                    raise LLMError(
                        f"llm ({self.backend.name})", f"no answer after {attempt + 1} attempts; last error {exc}"
                    ) from None
                self.usage.transport_retries += 1
                # a server's Retry-After wins over the schedule, both capped by max_backoff_s
                wait = max(self.backoff_s * 2**attempt, exc.retry_after_s or 0.0)
                self.sleep(min(self.max_backoff_s, wait))
        self.usage.calls += 1
        self.usage.prompt_tokens += reply.prompt_tokens
        self.usage.completion_tokens += reply.completion_tokens
        self.usage.seconds += reply.seconds
        if self.on_call is not None:
            self.on_call(reply)
        return reply
