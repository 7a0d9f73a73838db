"""The openai backend against a local fault-injecting server: every fault is survived and counted, no
malformed decision is ever evaluated, and configuration errors are one clear line."""

from __future__ import annotations

import json
import socket

import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.llm import LLMError
from offloadlab.llm.dialects import DIALECTS
from tests.llm.conftest import targets
from tests.llm.fault_server import MODEL, FaultServer, dialect_of
from tests.llm.test_optimizer import GOOD, LOCAL, POWER
from tests.test_cli import run_cli

FAST = {"llm_backend": "openai", "llm_model": MODEL, "llm_timeout": 0.5, "llm_backoff": 0.0}


@pytest.fixture
def data354(inst354):
    return inst354.to_json()


@pytest.fixture
def server():
    servers = []

    def start(script, default=LOCAL):
        servers.append(FaultServer(script, default))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_run_survives_every_fault_and_counts_it(data354, server, guarded_registry_problem):
    wrong_shape = targets([0, 1], [[0.1]])
    out_of_range = targets([4, 0, 0, 0, 0], [[0.0] * 4] * 5)
    clip = targets([1, 2, 2, 2, 1], [[0, 0.9, 0.01, 0], *POWER[1:]])
    srv = server(
        [
            ("timeout", 1.5),
            ("status", 500),
            ("status", 429),
            ("text", GOOD),
            ("text", GOOD[: len(GOOD) // 2]),
            ("text", wrong_shape),
            ("text", out_of_range),
            ("text", clip),
            ("status", 503),
            ("text", LOCAL),
        ]
    )
    _, _, res = solve(
        data354,
        "llm",
        0,
        llm_base_url=srv.url,
        llm_structured="json_schema",
        iterations=4,
        patience=100,
        answer_retries=2,
        **FAST,
    )
    st = res.stats
    assert st["transport_faults"] == {"rate_limit": 1, "server_error": 2, "timeout": 1}
    assert st["transport_retries"] == 4
    assert st["invalid_by_kind"] == {"not_json": 1, "out_of_range": 1, "wrong_shape": 1}
    assert st["invalid_outputs"] == 3 and st["retried"] == 2 and st["repaired"] == 1
    assert st["llm_calls"] == 6 and st["prompt_tokens"] == 6 * 400 and st["completion_tokens"] == 6 * 50
    assert [t["outcome"] for t in res.details["trajectory"]] == ["valid", "invalid", "repaired", "valid"]
    assert res.feasible and res.objective <= st["initial_objective"]
    # evaluated: start-up draws + 3 usable answers + the final re-evaluation (the guard checked each one)
    assert sum(guarded_registry_problem) == st["startup_evaluations"] + st["evaluations"] + 1
    # the answer format's schema went out as response_format on every call
    fmt = srv.bodies[-1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"]["additionalProperties"] is False
    # the configured mode is kept, but the answers that broke the schema say it did not enforce it
    assert st["structured_mode"] == "json_schema" and st["structured_enforced"] is False
    assert "not JSON" in st["structured_not_enforcing"]["json_schema"]


@pytest.mark.parametrize("status", [400, 500])
def test_a_rejected_dialect_is_replaced_not_retried_and_remembered(data354, server, status):
    # llama-cpp-python's server answers json_schema with HTTP 500; such a rejection is not transient
    srv = server([("reject_format", (status, "json_schema")), ("text", GOOD), ("text", LOCAL)])
    _, _, res = solve(data354, "llm", 0, llm_base_url=srv.url, iterations=2, **FAST)
    assert [dialect_of(b) for b in srv.bodies] == ["json_schema", "json_object_schema", "json_object_schema"]
    assert srv.bodies[1]["response_format"]["schema"]["required"] == ["target", "power_mw"]
    assert res.stats["transport_faults"] == {} and res.stats["llm_calls"] == 2


def test_a_server_without_any_structured_output_gets_plain_requests(data354, server):
    srv = server(
        [
            *[("reject_format", (400, d)) for d in DIALECTS[:-1]],
            ("text", GOOD),
        ]
    )
    _, _, res = solve(data354, "llm", 0, llm_base_url=srv.url, iterations=1, **FAST)
    assert [dialect_of(b) for b in srv.bodies] == list(DIALECTS)
    assert res.stats["structured_mode"] == "off" and res.stats["structured_enforced"] is False
    assert res.stats["llm_calls"] == 1 and res.stats["improvements"] == 1


def test_an_explicit_dialect_that_is_rejected_is_one_permanent_error(data354, server):
    srv = server([("reject_format", (500, "json_schema"))] * 3)
    with pytest.raises(LLMError, match="rejected structured output 'json_schema'"):
        solve(data354, "llm", 0, llm_base_url=srv.url, llm_structured="json_schema", **FAST)
    assert len(srv.bodies) == 1  # not retried


def test_request_options_reach_the_server(data354, server):
    srv = server([("text", GOOD)])
    solve(
        data354,
        "llm",
        0,
        llm_base_url=srv.url,
        iterations=1,
        llm_structured="off",
        llm_max_tokens=300,
        llm_max_tokens_param="max_completion_tokens",
        llm_extra={"top_p": 0.9},
        samples=1,
        **FAST,
    )
    body = srv.bodies[0]
    assert body["max_completion_tokens"] == 300 and "max_tokens" not in body and body["top_p"] == 0.9
    assert "response_format" not in body


def test_an_extraction_that_never_succeeds_is_a_failure_not_a_result(data354, server):
    srv = server([], default="I cannot answer that.")
    with pytest.raises(LLMError, match="no usable answer"):
        solve(data354, "llm", 0, llm_base_url=srv.url, iterations=2, answer_retries=0, llm_structured="off", **FAST)


def test_unknown_model_is_one_clear_input_error(data354, server):
    srv = server([])
    with pytest.raises(InputError) as exc:
        solve(data354, "llm", 0, llm_base_url=srv.url, **{**FAST, "llm_model": "nope"})
    assert exc.value.field == "llm-model" and "'nope' not found" in str(exc.value)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint_is_one_clear_error(data354):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMError, match=f"cannot reach {url}"):
        solve(data354, "llm", 0, llm_base_url=url, llm_retries=1, **FAST)


def test_cli_reports_an_unreachable_endpoint_in_one_line(tmp_path, data354, capsys, monkeypatch):
    inst = tmp_path / "inst.json"
    inst.write_text(json.dumps(data354))
    code, out, err = run_cli(
        [
            "solve",
            inst,
            "--solver",
            "llm",
            "--llm-backend",
            "openai",
            "--llm-model",
            "m",
            "--llm-base-url",
            f"http://127.0.0.1:{free_port()}/v1",
            "--llm-retries",
            0,
        ],
        capsys,
        monkeypatch,
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "cannot reach" in err
