"""Structured-output dialects: each one's request body (checked against a recorded exchange), the check
that catches a server that accepts a dialect without enforcing it, and the mode remembered per endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offloadlab.core.run import solve
from offloadlab.llm import openai_backend
from offloadlab.llm.backend import Request
from offloadlab.llm.dialects import (
    DIALECTS,
    VERIFY_ANSWERS,
    cache_path,
    endpoint_key,
    grammar_schema,
    load_entry,
    schema_break,
)
from offloadlab.llm.openai_backend import OpenAIBackend
from tests.llm.conftest import targets
from tests.llm.fault_server import MODEL, FaultServer, dialect_of
from tests.llm.test_optimizer import GOOD, POWER

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "dialects.json").read_text())
SCHEMA = RECORDED["schema"]
FAST = {"llm_backend": "openai", "llm_model": "fake-model", "llm_timeout": 5.0, "llm_backoff": 0.0}
# answers that break the (3, 5, 4) answer schema: a satellite id out of range, power above its bound
BROKEN = targets([0, 3, 69, 821754994, 3], POWER)


@pytest.fixture
def servers():
    started = []

    def start(script, default=GOOD):
        started.append(FaultServer(script, default))
        return started[-1]

    yield start
    for s in started:
        s.close()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_sends_the_recorded_request_body(servers, dialect):
    exchange = RECORDED["exchanges"][dialect]
    srv = servers([], exchange["response"]["choices"][0]["message"]["content"])
    backend = OpenAIBackend(MODEL, srv.url, "OFFLOADLAB_NO_SUCH_KEY", dialect)
    reply = backend.complete(Request(({"role": "user", "content": "Pick two satellites."},), 0.0, 32, SCHEMA, 7), 5.0)
    assert srv.bodies == [exchange["request"]]
    assert dialect_of(srv.bodies[0]) == dialect
    assert reply.text == exchange["response"]["choices"][0]["message"]["content"]


def test_the_grammar_dialect_writes_small_integer_ranges_as_enums():
    got = grammar_schema(SCHEMA)["properties"]["target"]["items"]
    assert got["enum"] == [0, 1, 2, 3] and (got["minimum"], got["maximum"]) == (0, 3)
    wide = {"type": "integer", "minimum": 0, "maximum": 10_000}
    assert "enum" not in grammar_schema(wide) and grammar_schema({"type": "number", "minimum": 0, "maximum": 1}) == {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
    }


@pytest.mark.parametrize(
    "text, broken",
    [
        ('{"target": [1, 3]}', None),
        ('{"target": [1, 4]}', "answer.target[1] = 4 is out of [0, 3]"),
        ('{"target": [1]}', "answer.target has 1 items"),
        ('{"target": [1, 2], "why": "x"}', "unexpected ['why']"),
        ('{"target": [1, 2.5]}', "is not an integer"),
        ('{"target": [true, 2]}', "is not an integer"),
        ('Sure: {"target": [1, 2]}', "not JSON"),
    ],
)
def test_schema_break_names_the_first_break(text, broken):
    got = schema_break(text, SCHEMA)
    assert got is None if broken is None else broken in got


def test_auto_detects_a_mode_that_accepts_the_schema_but_does_not_enforce_it(servers, inst354):
    # the server takes json_schema but answers out of the schema's bounds: that mode is dropped after its first
    # such answer, and the next one (json_object with the schema) is used and verified
    srv = servers([("text", BROKEN)])
    _, _, res = solve(
        inst354.to_json(), "llm", 0, llm_base_url=srv.url, iterations=1 + VERIFY_ANSWERS, answer_retries=0, **FAST
    )
    assert [dialect_of(b) for b in srv.bodies] == ["json_schema"] + ["json_object_schema"] * VERIFY_ANSWERS
    st = res.stats
    assert st["structured_mode"] == "json_object_schema" and st["structured_enforced"] is True
    assert "answer.target[2] = 69 is out of [0, 3]" == st["structured_not_enforcing"]["json_schema"]
    assert st["invalid_by_kind"] == {"out_of_range": 1}  # the broken answer itself is still counted


def test_a_server_that_ignores_every_enforcing_mode_ends_on_plain_json(servers, inst354):
    srv = servers([], default="I cannot write JSON here.")  # every mode answers free text
    with pytest.raises(Exception, match="no usable answer"):
        solve(inst354.to_json(), "llm", 0, llm_base_url=srv.url, iterations=5, answer_retries=0, **FAST)
    assert [dialect_of(b) for b in srv.bodies] == list(DIALECTS[:5])
    entry = load_entry(endpoint_key(srv.url, MODEL))
    assert entry is not None and entry["mode"] == "json_object" and entry["enforced"] is False


def test_the_verified_mode_is_remembered_and_reused_by_the_next_process_without_a_probe(
    servers, inst354, monkeypatch, tmp_path
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("OFFLOADLAB_TEST_KEY", "sk-secret-123")
    srv = servers([("reject_format", (500, "json_schema"))])
    opts = {**FAST, "llm_api_key_env": "OFFLOADLAB_TEST_KEY", "llm_base_url": srv.url}
    _, _, first = solve(inst354.to_json(), "llm", 0, iterations=VERIFY_ANSWERS, patience=50, **opts)
    assert first.stats["structured_source"] == "probe" and first.stats["structured_enforced"] is True
    assert first.stats["structured_rejected"]["json_schema"].startswith("HTTP 500")
    path = cache_path()
    assert path == tmp_path / "cache" / "offloadlab" / "llm-structured.json"
    assert "sk-secret-123" not in path.read_text()
    entry = load_entry(endpoint_key(srv.url, MODEL))
    assert entry == {"mode": "json_object_schema", "enforced": True, "identity": MODEL}
    # a new process: nothing in memory, the file says which mode works
    monkeypatch.setattr(openai_backend, "_MODES", {})
    sent = len(srv.bodies)
    _, _, second = solve(inst354.to_json(), "llm", 1, iterations=2, patience=50, **opts)
    assert [dialect_of(b) for b in srv.bodies[sent:]] == ["json_object_schema"] * 2  # no json_schema probe
    assert second.stats["structured_source"] == "cache" and second.stats["structured_enforced"] is True
    assert "structured_rejected" not in second.stats


def test_a_different_server_behind_the_same_address_is_verified_again(servers, inst354, monkeypatch):
    srv = servers([])
    key = endpoint_key(srv.url, MODEL)
    from offloadlab.llm.dialects import store_entry

    store_entry(key, "json_object_schema", True, "another-model")
    _, _, res = solve(inst354.to_json(), "llm", 0, llm_base_url=srv.url, iterations=1, **FAST)
    assert res.stats["structured_source"] == "probe" and res.stats["structured_enforced"] is None
    assert [dialect_of(b) for b in srv.bodies] == ["json_object_schema"]


def test_the_endpoint_key_drops_credentials_and_query():
    key = endpoint_key("https://user:pw@example.org:8443/v1/?api_key=sk-1#x", "m")
    assert key == "https://example.org:8443/v1 m" and "pw" not in key and "sk-1" not in key


def test_an_unreadable_cache_file_is_ignored(servers, inst354):
    cache_path().parent.mkdir(parents=True)
    cache_path().write_text("{not json")
    srv = servers([])
    _, _, res = solve(inst354.to_json(), "llm", 0, llm_base_url=srv.url, iterations=1, **FAST)
    assert res.stats["structured_mode"] == "json_schema" and res.feasible


def test_a_recorded_run_still_reports_its_mode(servers, inst354, tmp_path):
    srv = servers([])
    opts = {**FAST, "llm_base_url": srv.url, "llm_record": str(tmp_path / "calls.jsonl")}
    _, _, res = solve(inst354.to_json(), "llm", 0, iterations=1, **opts)
    assert (res.stats["structured_mode"], res.stats["structured_source"]) == ("json_schema", "probe")


def test_the_random_control_reports_answers_drawn_from_the_schema(inst354):
    _, _, res = solve(inst354.to_json(), "llm", 0, llm_backend="random", iterations=2)
    assert (res.stats["structured_mode"], res.stats["structured_enforced"]) == ("schema_draw", True)
