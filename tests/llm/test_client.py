"""Retries with backoff, the token budget and accounting of LLMClient; the backend factory."""

from __future__ import annotations

import pytest

from offloadlab.core.errors import InputError
from offloadlab.llm import (
    LLMClient,
    LLMError,
    LLMOptions,
    Reply,
    TokenBudgetExhausted,
    TransientLLMError,
    make_backend,
    parse_llm_options,
)
from offloadlab.llm.backend import Request


class Flaky:
    """Raises the scripted transient faults, then answers."""

    name, model = "flaky", "m"

    def __init__(self, faults):
        self.faults = list(faults)

    def complete(self, request, timeout_s):
        if self.faults:
            kind, after = self.faults.pop(0)
            raise TransientLLMError(kind, "scripted", after)
        return Reply("{}", 30, 5, 0.5)


REQ = Request(({"role": "user", "content": "hi"},))


def test_transient_faults_are_retried_with_exponential_backoff_and_counted():
    waits = []
    client = LLMClient(
        Flaky([("server_error", None), ("rate_limit", 7.0), ("timeout", None)]),
        backoff_s=1.0,
        max_backoff_s=30.0,
        sleep=waits.append,
    )
    reply = client.complete(REQ)
    assert reply.text == "{}"
    assert waits == [1.0, 7.0, 4.0]  # 1, then the server's Retry-After (7 > 2), then 4
    u = client.usage
    assert (u.calls, u.prompt_tokens, u.completion_tokens, u.transport_retries) == (1, 30, 5, 3)
    assert u.faults == {"server_error": 1, "rate_limit": 1, "timeout": 1}


def test_backoff_is_capped():
    waits = []
    LLMClient(
        Flaky([("connection", None)] * 5), backoff_s=1.0, max_backoff_s=3.0, max_retries=5, sleep=waits.append
    ).complete(REQ)
    assert waits == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_gives_up_after_max_retries_with_one_clear_error():
    client = LLMClient(Flaky([("connection", None)] * 3), max_retries=2, sleep=lambda s: None)
    with pytest.raises(LLMError, match="no answer after 3 attempts; last error connection"):
        client.complete(REQ)
    assert client.usage.calls == 0 and client.usage.faults["connection"] == 3


def test_token_budget_stops_further_calls():
    seen = []
    client = LLMClient(Flaky([]), token_budget=60, on_call=seen.append)
    client.complete(REQ)
    client.complete(REQ)  # 35 tokens spent < 60: still allowed
    with pytest.raises(TokenBudgetExhausted):
        client.complete(REQ)
    assert len(seen) == 2 and client.usage.tokens == 70


def test_request_key_ignores_purpose_but_not_content():
    a = Request(({"role": "user", "content": "x"},), seed=1, purpose="generate")
    assert a.key() == Request(a.messages, seed=1, purpose="retry").key()
    assert a.key() != Request(a.messages, seed=2).key()
    assert a.key() != Request(a.messages, seed=1, schema={"type": "object"}).key()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"backend": "replay"}, "llm-replay"),
        ({"backend": "openai"}, "llm-model"),
        ({"backend": "embedded", "replay": "x.jsonl"}, "llm-replay"),
        ({"backend": "embedded", "base_url": "http://x"}, "llm-base-url"),
        ({"backend": "embedded", "model": "no-such-model"}, "llm-model"),
        ({"replay": "/no/such/file.jsonl"}, "llm-replay"),
    ],
)
def test_bad_backend_options_name_the_option(kwargs, field):
    with pytest.raises(InputError) as exc:
        make_backend(LLMOptions(**kwargs))
    assert exc.value.field == field


@pytest.mark.parametrize(
    "options, field",
    [
        ({"llm_backend": "gpt"}, "option llm.backend"),
        ({"temperature": 3}, "option llm.temperature"),
        ({"llm_retries": -1}, "option llm.retries"),
        ({"samples": 0}, "option llm.samples"),
        ({"llm_structured": "yaml"}, "option llm.structured"),
        ({"llm_api_key_env": "sk-abc def"}, "option llm.api_key_env"),
        ({"llm_colour": "red"}, "option llm_colour"),
    ],
)
def test_llm_options_are_typed_and_bounded(options, field):
    with pytest.raises(InputError) as exc:
        parse_llm_options(options)
    assert exc.value.field == field


def test_llm_options_names_and_the_former_boolean():
    got = parse_llm_options({"llm_backend": "openai", "temperature": 0.5, "llm_structured": False, "samples": 8})
    assert (got.backend, got.temperature, got.structured, got.samples) == ("openai", 0.5, "off", 8)
    assert parse_llm_options({"llm_structured": True}).structured == "auto"


def test_solvers_list_the_llm_options_and_reject_unknown_ones(inst354):
    from offloadlab.core.run import solve

    with pytest.raises(InputError, match="llm_base_url.*samples|samples.*llm_base_url") as exc:
        solve(inst354.to_json(), "llm", 0, llm_colour="red")
    assert exc.value.field == "option llm_colour"


def test_openai_key_required_only_for_the_official_endpoint(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(InputError, match="MY_KEY"):
        make_backend(
            LLMOptions(backend="openai", model="gpt-4o", base_url="https://api.openai.com/v1", api_key_env="MY_KEY")
        )
    local = make_backend(
        LLMOptions(backend="openai", model="qwen", base_url="http://127.0.0.1:8000/v1", api_key_env="MY_KEY")
    )
    assert local.model == "qwen"
