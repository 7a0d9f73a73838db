"""The options every LLM method shares, as one typed, bounded model, and the decorator that exposes them
as solver options (``--llm-backend``, ``--llm-model``, ..., ``--temperature``, ``--samples``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo

from offloadlab.core.config import StrictModel, parse_model

F = TypeVar("F", bound=Callable[..., Any])
Structured = Literal["auto", "json_schema", "json_object_schema", "guided_json", "format", "json_object", "off"]


class LLMOptions(StrictModel):
    """How an LLM method talks to its model: backend, endpoint, transport, sampling and answer format."""

    backend: Literal["embedded", "openai", "replay", "random"] | None = Field(
        None,
        description="embedded (default), openai (any OpenAI-compatible server), replay, or random (a control: "
        "uniform draws from the answer schema, no model)",
    )
    model: str | None = Field(None, description="embedded model name or .gguf path; the endpoint's model name")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1")
    api_key_env: str = Field(
        "OPENAI_API_KEY",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="environment variable holding the API key (never the key itself)",
    )
    record: str | None = Field(None, description="append every call to this JSON-lines file")
    replay: str | None = Field(None, description="answer from a recording (implies backend replay)")
    threads: int | None = Field(None, ge=1, le=256, description="llama.cpp threads of the embedded backend")
    timeout: float = Field(120.0, gt=0.0, le=86_400.0, description="seconds per call")
    retries: int = Field(4, ge=0, le=20, description="retries of a transient fault (timeout, 429, 5xx)")
    backoff: float = Field(1.0, ge=0.0, le=60.0, description="first backoff in seconds, doubled per retry")
    token_budget: int | None = Field(None, ge=1, description="stop once this many tokens are spent")
    temperature: float = Field(1.0, ge=0.0, le=2.0, description="sampling temperature")
    structured: Structured = Field(
        "auto",
        description="structured-output mode; auto tries the enforcing ones first, checks the answers and "
        "remembers the mode per endpoint",
    )
    max_tokens: int | None = Field(
        None, ge=1, le=262_144, description="completion-token cap (default: what a full answer needs)"
    )
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = Field(
        "max_tokens", description="max_completion_tokens for reasoning models"
    )
    system: str | None = Field(None, max_length=20_000, description="a system message sent before every prompt")
    extra: dict[str, Any] = Field(default_factory=dict, description='extra request parameters, e.g. {"top_p": 0.9}')
    samples: int = Field(1, ge=1, le=64, description="answers per prompt (OpenAI's n, or repeated calls)")
    answer_retries: int = Field(2, ge=0, le=10, description="re-asks of an unusable answer, with its error")

    @field_validator("structured", mode="before")
    @classmethod
    def _bool_structured(cls, value: Any) -> Any:
        """``--llm-structured true|false`` (the former boolean) means auto or off."""
        return {True: "auto", False: "off"}.get(value, value) if isinstance(value, bool) else value


# Option names as solvers take them: llm_<field>, except the sampling knobs the papers' figures vary.
UNPREFIXED = ("temperature", "samples", "answer_retries")
OPTION_NAMES = {(name if name in UNPREFIXED else f"llm_{name}"): name for name in LLMOptions.model_fields}


def parse_llm_options(options: dict[str, Any]) -> LLMOptions:
    """LLMOptions from solver options named as in OPTION_NAMES; errors name the option."""
    try:
        data = {OPTION_NAMES[k]: v for k, v in options.items()}
    except KeyError as exc:
        from offloadlab.core.errors import InputError

        raise InputError(f"option {exc.args[0]}", f"not an LLM option (allowed: {', '.join(OPTION_NAMES)})") from None
    return parse_model(LLMOptions, data, "option llm")


def llm_method(**defaults: Any) -> Callable[[F], F]:
    """Decorator: the solver ``fn(problem, instance, budget, rng, *, llm: LLMOptions, **own)`` takes every
    LLM option as a keyword (``defaults`` overrides the model's, e.g. temperature=0); its signature lists
    them, so unknown options are rejected with the allowed names."""

    def deco(fn: F) -> F:
        sig = inspect.signature(fn)
        base = LLMOptions.model_fields

        @functools.wraps(fn)
        def wrapper(problem: Any, instance: Any, budget: int | None, rng: Any, **options: Any) -> Any:
            mine = {k: options.pop(k) for k in list(options) if k in OPTION_NAMES}
            llm = parse_llm_options({**defaults, **mine})
            return fn(problem, instance, budget, rng, llm=llm, **options)

        extra = [
            inspect.Parameter(
                opt,
                inspect.Parameter.KEYWORD_ONLY,
                default=defaults.get(opt, base[name].get_default(call_default_factory=True)),
                annotation=annotated(base[name]),
            )
            for opt, name in OPTION_NAMES.items()
        ]
        own = [p for p in sig.parameters.values() if p.name != "llm"]
        wrapper.__signature__ = sig.replace(parameters=[*own, *extra])  # type: ignore[attr-defined]
        # the options model reads annotations, not the signature: the LLM options' types, bounds and meaning
        hints = {k: v for k, v in fn.__annotations__.items() if k != "llm"}
        wrapper.__annotations__ = {**hints, **{p.name: p.annotation for p in extra}}
        return wrapper  # type: ignore[return-value]

    return deco


def annotated(info: FieldInfo) -> Any:
    """A model field as a parameter annotation carrying its bounds and description (``Annotated[type, Field]``),
    so that a solver's options model, and the options listing, see them as the model declares them."""
    return Annotated[(info.annotation, *info.metadata, Field(description=info.description))]  # type: ignore[return-value]
