"""OpenAI-compatible HTTP backend (OpenAI, vLLM, Ollama, llama.cpp server) through the official client."""

from __future__ import annotations

import os
import time
from typing import Any

from offloadlab.core.errors import InputError, mask_secrets, remember_secret
from offloadlab.llm.backend import LLMError, Reply, Request, TransientLLMError, estimate_tokens
from offloadlab.llm.dialects import ModeState, endpoint_key, structured_body

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
# Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
PLACEHOLDER_KEY = "not-needed"
# What a rejected structured-output request says, whatever its HTTP status (llama-cpp-python: 500).
_FORMAT_WORDS = (
    "response_format",
    "json_schema",
    "json_object",
    "guided_json",
    "structured_outputs",
    "schema",
    "grammar",
)
# What auto found per endpoint, shared by every backend object of the process (the cache file: across processes).
_MODES: dict[str, ModeState] = {}


class OpenAIBackend:
    """Chat completions from any OpenAI-compatible endpoint; the key only ever comes from the environment."""

    name = "openai"

    def __init__(
        self,
        model: str | None,
        base_url: str | None = None,
        api_key_env: str = DEFAULT_KEY_ENV,
        structured: str = "auto",
        max_tokens_param: str = "max_tokens",
        extra: dict[str, Any] | None = None,
    ):
        import openai

        if not model:
            raise InputError("llm-model", "required with --llm-backend openai (the endpoint's model name)")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = os.environ.get(api_key_env)
        remember_secret(key)  # a server error that echoes the key is masked wherever it is shown
        if not key and "api.openai.com" in self.base_url:
            raise InputError(api_key_env, "not set: export the API key in this environment variable")
        # retries are ours (LLMClient), so that each fault is counted
        self.client = openai.OpenAI(api_key=key or PLACEHOLDER_KEY, base_url=self.base_url, max_retries=0)
        self.structured = structured
        self.max_tokens_param = max_tokens_param
        self.extra = dict(extra or {})
        self._modes: ModeState | None = None

    @property
    def modes(self) -> ModeState:
        """The structured-output state of this endpoint: configured, or what auto found (shared per process)."""
        if self._modes is None:
            key = endpoint_key(self.base_url, self.model)
            if self.structured != "auto":
                self._modes = ModeState.start(key, self.structured)
            else:
                self._modes = _MODES.setdefault(key, ModeState.start(key, "auto"))
        return self._modes

    @property
    def dialect(self) -> str:
        """The structured-output dialect in use."""
        return self.modes.mode

    def structured_report(self) -> dict[str, Any]:
        """Mode used, whether it enforced the schema, and the modes left behind (for a solver's stats)."""
        return self.modes.report()

    def complete(self, request: Request, timeout_s: float) -> Reply:
        """One chat completion; a rejected structured-output dialect is replaced by the next one (auto) or
        reported (explicit), never retried as a transient fault. Answers under a mode that claims to enforce
        the schema are checked against it (a break marks the mode not enforcing)."""
        while True:
            dialect = self.dialect if request.schema is not None else "off"
            try:
                reply = self._complete(request, timeout_s, dialect)
                break
            except _FormatRejected as exc:
                if self.structured != "auto":
                    raise LLMError(
                        "llm-structured",
                        f"{self.base_url} rejected structured output '{dialect}' "
                        f"({exc}); try --llm-structured auto or off",
                    ) from None
                self.modes.reject(str(exc))
        if request.schema is not None:
            self.modes.observe(reply.texts, request.schema, reply.finish_reason == "length", reply.model)
        return reply

    def _complete(self, request: Request, timeout_s: float, dialect: str) -> Reply:
        import openai

        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            "temperature": request.temperature,
            self.max_tokens_param: request.max_tokens,
            "timeout": timeout_s,
        }
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.n > 1:
            kwargs["n"] = request.n
        fmt = structured_body(dialect, request.schema) if request.schema is not None else {}
        kwargs.update(fmt)
        if self.extra:
            kwargs["extra_body"] = {**self.extra, **kwargs.get("extra_body", {})}
        start = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except openai.NotFoundError as exc:
            raise InputError("llm-model", f"'{self.model}' not found at {self.base_url} ({_detail(exc)})") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise LLMError("llm", f"{self.base_url} refused the API key ({_detail(exc)})") from None
        except openai.RateLimitError as exc:
            raise TransientLLMError("rate_limit", _detail(exc), _retry_after(exc)) from None
        except openai.APITimeoutError:
            raise TransientLLMError("timeout", f"{self.base_url} gave no answer within {timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise TransientLLMError("connection", f"cannot reach {self.base_url} ({exc.__cause__ or exc})") from None
        except openai.APIStatusError as exc:
            detail = _detail(exc)
            if fmt and any(w in detail.lower() for w in _FORMAT_WORDS):
                raise _FormatRejected(f"HTTP {exc.status_code}: {detail}") from None
            if exc.status_code >= 500 or exc.status_code == 408:
                raise TransientLLMError("server_error", f"HTTP {exc.status_code}: {detail}") from None
            raise LLMError("llm", f"{self.base_url} rejected the request (HTTP {exc.status_code}): {detail}") from None
        except openai.APIResponseValidationError as exc:
            raise TransientLLMError("server_error", f"malformed response body: {exc}") from None
        seconds = time.perf_counter() - start
        if not getattr(resp, "choices", None):
            raise TransientLLMError("server_error", "response without choices")
        texts = [(c.message.content if c.message else None) or "" for c in resp.choices]
        usage = resp.usage
        prompt_tokens = usage.prompt_tokens if usage else sum(estimate_tokens(m["content"]) for m in request.messages)
        completion_tokens = usage.completion_tokens if usage else sum(estimate_tokens(t) for t in texts)
        return Reply(
            texts[0],
            prompt_tokens,
            completion_tokens,
            seconds,
            resp.model or self.model,
            resp.choices[0].finish_reason or "",
            texts=texts,
            extra={"dialect": dialect},
        )


class _FormatRejected(Exception):
    """The server rejected the structured-output fields of a request (a permanent property of the server)."""


def _detail(exc: Exception) -> str:
    """The server's error message, short."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        msg = err.get("message") if isinstance(err, dict) else err
        if msg:
            return mask_secrets(str(msg))[:200]
    return mask_secrets(str(exc))[:200]


def _retry_after(exc: Exception) -> float | None:
    """Seconds from a Retry-After header, if the server sent one."""
    response = getattr(exc, "response", None)
    try:
        return float(response.headers.get("retry-after")) if response is not None else None
    except (TypeError, ValueError):
        return None
