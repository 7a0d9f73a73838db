"""The openai backend against a real OpenAI-compatible server: llama-cpp-python's own server (the
``server`` extra) with the shipped SmolLM2 GGUF on 127.0.0.1, structured and unstructured; the API key (a
dummy in the environment) must appear in no output, log or stored file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from offloadlab.core.run import solve
from offloadlab.llm import LLMError
from offloadlab.llm.dialects import VERIFY_ANSWERS, cache_path
from offloadlab.llm.embedded import resolve_model
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM as DT
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params

pytest.importorskip("uvicorn", reason="needs llama-cpp-python[server]")
# slow, and generous time limits: on a shared 2-core machine one SmolLM2 call through the server took up to 2 min
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

KEY_ENV, KEY = "OFFLOADLAB_TEST_KEY", "sk-dummy-4f1c9e0b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m llama_cpp.server`` on a free loopback port; yields (base URL, log file)."""
    gguf, _ = resolve_model("smollm2")
    port, log = free_port(), tmp_path_factory.mktemp("server") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model_alias",
        "smollm2",
        "--n_ctx",
        "8192",
        "--n_threads",
        "1",
        "--api_key",
        KEY,
    ]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(120):
            try:
                req = urllib.request.Request(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})
                urllib.request.urlopen(req, timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.5)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("structured", ["auto", "off"])
def test_llm_optimizer_against_llama_cpp_server(server, tmp_path, monkeypatch, capsys, structured):
    url, log = server
    monkeypatch.setenv(KEY_ENV, KEY)
    data = generate_instance(make_params("default", M=3, N=5, I=4), seed=1).to_json()
    record = tmp_path / "calls.jsonl"
    options = {
        "llm_backend": "openai",
        "llm_base_url": url,
        "llm_model": "smollm2",
        "llm_api_key_env": KEY_ENV,
        "llm_structured": structured,
        "llm_record": str(record),
        "llm_timeout": 900.0,
        "iterations": 2,
        "patience": 5,
        "initial_samples": 20,
    }
    if structured == "off":
        # free text: the fields are read from the text, the missing ones asked for in one follow-up to the same
        # conversation (the main prompt stays the server's cached prefix). SmolLM2-135M may still give nothing
        # usable: then the run fails in one line, never returning its starting point as a result
        try:
            _, _, res = solve(data, "llm", 0, **{**options, "iterations": 1, "answer_retries": 0})
            assert res.stats["usable_answers"] == 1 and res.stats["structured_mode"] == "off"
        except LLMError as exc:
            assert "no usable answer in" in str(exc)
        calls = [json.loads(line)["request"] for line in record.read_text().splitlines()]
        main, follow_ups = calls[0], calls[1:]
        assert main["purpose"] == "generate" and len(follow_ups) <= 1 and all(c["schema"] is None for c in calls)
        assert all(c["messages"][: len(main["messages"])] == main["messages"] for c in follow_ups)
        assert KEY not in capsys.readouterr().out + record.read_text() + log.read_text()
        return
    _, _, res = solve(data, "llm", 0, **options)
    st = res.stats
    assert st["iterations"] == 2 and st["usable_answers"] >= 1 and st["transport_faults"] == {}
    assert st["backend"] == "openai" and res.feasible
    out = json.dumps(res.to_json()) + capsys.readouterr().out + record.read_text() + log.read_text()
    assert KEY not in out
    # the server speaks json_object + schema, found once and then used: every answer is JSON
    assert all(json.loads(line)["request"]["schema"] for line in record.read_text().splitlines())
    assert st["invalid_by_kind"].get("not_json", 0) == 0


def test_llm_icl_against_llama_cpp_server(server, monkeypatch, capsys):
    url, log = server
    monkeypatch.setenv(KEY_ENV, KEY)
    data = DT.make_instance(4, "default", N=2, K=2, slots=2)
    _, _, res = solve(
        data,
        "llm-icl",
        0,
        llm_backend="openai",
        llm_base_url=url,
        llm_model="smollm2",
        llm_api_key_env=KEY_ENV,
        llm_timeout=900.0,
        neighbours=1,
        case_episodes=1,
        episodes=1,
        batch_size=8,
        hidden=[16, 16, 8],
        progress=False,
    )
    assert res.stats["llm_calls"] == 2 and res.stats["backend"] == "openai"
    assert res.stats["usable_answers"] >= 1
    assert KEY not in json.dumps(res.to_json()) + capsys.readouterr().out + log.read_text()
    assert KEY not in os.environ.get("PYTEST_CURRENT_TEST", "")


@pytest.mark.timeout(3600)
def test_enforcing_mode_found_once_then_reused_by_the_next_process(server, tmp_path, monkeypatch):
    """auto: json_schema is rejected (HTTP 500), json_object with the schema enforces it (bounds as enums):
    verified on the first answers and remembered; a new process (the CLI) uses it without probing again."""
    url, log = server
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = generate_instance(make_params("default", M=3, N=5, I=4), seed=11).to_json()
    llm = {
        "llm_backend": "openai",
        "llm_base_url": url,
        "llm_model": "smollm2",
        "llm_api_key_env": KEY_ENV,
        "llm_timeout": 1500.0,
        "initial_samples": 20,
    }
    _, _, res = solve(data, "llm", 0, iterations=VERIFY_ANSWERS, patience=50, answer_retries=0, **llm)
    st = res.stats
    assert st["structured_mode"] == "json_object_schema" and st["structured_enforced"] is True
    assert "json_schema" in st["structured_rejected"] and st["structured_source"] == "probe"
    # at most a quarter of the answers unusable, and a feasible result
    assert st["invalid_outputs"] <= st["llm_calls"] / 4 and res.feasible
    remembered = json.loads(cache_path().read_text())
    assert [e["mode"] for e in remembered.values()] == ["json_object_schema"] and KEY not in cache_path().read_text()
    rejected_before = log.read_text().count("500 Internal Server Error")
    inst, record = tmp_path / "inst.json", tmp_path / "second.jsonl"
    inst.write_text(json.dumps(data))
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in llm.items()]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "offloadlab",
            "solve",
            str(inst),
            "--solver",
            "llm",
            "--iterations",
            "1",
            "--answer-retries",
            "0",
            f"--llm-record={record}",
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=1700,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)["stats"]
    assert stats["structured_mode"] == "json_object_schema" and stats["structured_source"] == "cache"
    assert "structured_rejected" not in stats and stats["llm_calls"] == 1
    assert log.read_text().count("500 Internal Server Error") == rejected_before  # no new probe
    assert KEY not in out.stdout + out.stderr + record.read_text()
