"""OpenAI-compatible HTTP backend (OpenAI, vLLM, Ollama, llama.cpp server) through the official client."""

from __future__ import annotations

import os
import time
from typing import Any

from offloadlab.core.errors import InputError
from offloadlab.llm.backend import LLMError, Reply, Request, TransientLLMError, estimate_tokens

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
PLACEHOLDER_KEY = "not-needed"


class OpenAIBackend:
    """Chat completions from any OpenAI-compatible endpoint; the key only ever comes from the environment."""

    name = "openai"

    def __init__(self, model: str | None, base_url: str | None = None, api_key_env: str = DEFAULT_KEY_ENV):
        import openai

        if not model:
            raise InputError("llm-model", "required with --llm-backend openai (the endpoint's model name)")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = os.environ.get(api_key_env)
        if not key and "api.openai.com" in self.base_url:
            raise InputError(api_key_env, "not set: export the API key in this environment variable")
        # retries are ours (LLMClient), so that each fault is counted
        self.client = openai.OpenAI(api_key=key or PLACEHOLDER_KEY, base_url=self.base_url, max_retries=0)
        self.use_schema = True  # turned off once if the server rejects response_format

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """One chat completion; maps the client's errors onto transient and final ones."""
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": list(request.messages),
                                  "temperature": request.temperature, "max_tokens": request.max_tokens,
                                  "timeout": timeout_s}
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.schema is not None and self.use_schema:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "decision", "schema": request.schema}}
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except openai.BadRequestError as exc:
            if "response_format" in kwargs and "response_format" in str(exc):
                self.use_schema = False  # the server has no structured output: ask in words, validate after
                return self.complete(request, timeout_s)
            raise LLMError("llm", f"{self.base_url} rejected the request: {_detail(exc)}") from None
        except openai.NotFoundError as exc:
            raise InputError("llm-model", f"'{self.model}' not found at {self.base_url} ({_detail(exc)})") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LLMError("llm", f"{self.base_url} refused the API key ({_detail(exc)})") from None
        except openai.RateLimitError as exc:
            raise TransientLLMError("rate_limit", _detail(exc), _retry_after(exc)) from None
        except openai.InternalServerError as exc:
            raise TransientLLMError("server_error", _detail(exc)) from None
        except openai.APITimeoutError:
            raise TransientLLMError("timeout", f"{self.base_url} gave no answer within {timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise TransientLLMError("connection", f"cannot reach {self.base_url} ({exc.__cause__ or exc})") from None
        except openai.APIStatusError as exc:
            raise LLMError("llm", f"{self.base_url} answered HTTP {exc.status_code}: {_detail(exc)}") from None
        except openai.APIResponseValidationError as exc:
            raise TransientLLMError("server_error", f"malformed response body: {exc}") from None
        seconds = time.perf_counter() - start
        if not getattr(resp, "choices", None):
            raise TransientLLMError("server_error", "response without choices")
        choice = resp.choices[0]
        text = (choice.message.content if choice.message else None) or ""
        usage = resp.usage
        prompt_tokens = usage.prompt_tokens if usage else sum(estimate_tokens(m["content"]) for m in request.messages)
        completion_tokens = usage.completion_tokens if usage else estimate_tokens(text)
        return Reply(text, prompt_tokens, completion_tokens, seconds, resp.model or self.model,
                     choice.finish_reason or "")


def _detail(exc: Exception) -> str:
    """The server's error message, short."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return str(msg)[:200]
    return str(exc)[:200]


def _retry_after(exc: Exception) -> float | None:
    """Seconds from a Retry-After header, if the server sent one."""
    response = getattr(exc, "response", None)
    try:
        return float(response.headers.get("retry-after")) if response is not None else None
    except (TypeError, ValueError):
        return None
