"""Record and replay: a committed recording of a real embedded-model run is replayed offline and must
reproduce that run's trajectory exactly.

Regenerate the fixture (after a prompt or model change) with:
    .venv/bin/python -m tests.llm.test_replay
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offloadlab.core.io import read_json, write_json
from offloadlab.core.result import jsonable
from offloadlab.core.run import solve
from offloadlab.llm import LLMError
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from tests.llm.fault_server import MODEL, FaultServer
from tests.llm.test_optimizer import GOOD, LOCAL
from tests.test_cli import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
INSTANCE, RECORDING, EXPECTED = (FIXTURES / f"opro_354.{s}" for s in ("instance.json", "replay.jsonl", "expected.json"))
OPTIONS = {"iterations": 4, "patience": 10}
KEPT_STATS = (
    "llm_calls",
    "prompt_tokens",
    "completion_tokens",
    "invalid_outputs",
    "invalid_by_kind",
    "repaired",
    "retried",
    "iterations",
    "improvements",
    "initial_objective",
    "stop_reason",
    "evaluations",
)


def summary(res) -> dict:
    """What a replay must reproduce: decision, objective, trajectory and the accounting."""
    return jsonable(
        {
            "decision": res.decision,
            "objective": res.objective,
            "trajectory": res.details["trajectory"],
            "stats": {k: res.stats[k] for k in KEPT_STATS},
        }
    )


def test_replay_reproduces_the_recorded_embedded_run():
    _, _, res = solve(read_json(INSTANCE, "instance"), "llm", 0, llm_replay=str(RECORDING), **OPTIONS)
    expected = read_json(EXPECTED, "expected")
    assert summary(res) == expected
    assert res.stats["backend"] == "replay" and res.stats["model"] == "smollm2"
    assert res.stats["llm_calls"] == len(RECORDING.read_text().splitlines())


def test_replay_with_another_seed_is_a_clear_error():
    with pytest.raises(LLMError, match="no recorded answer"):
        solve(read_json(INSTANCE, "instance"), "llm", 1, llm_replay=str(RECORDING), **OPTIONS)


def test_any_backend_records_and_replays_identically(tmp_path, inst354):
    data, rec = inst354.to_json(), tmp_path / "run.jsonl"
    srv = FaultServer([("text", GOOD), ("text", "oops"), ("status", 500)], default=LOCAL)
    try:
        _, _, live = solve(
            data,
            "llm",
            3,
            llm_backend="openai",
            llm_model=MODEL,
            llm_base_url=srv.url,
            llm_backoff=0.0,
            llm_record=str(rec),
            iterations=3,
        )
    finally:
        srv.close()
    _, _, again = solve(data, "llm", 3, llm_replay=str(rec), iterations=3)
    assert summary(again) == summary(live)
    assert live.stats["transport_faults"] == {"server_error": 1} and again.stats["transport_faults"] == {}


def test_cli_solve_prints_the_llm_stats(tmp_path, capsys, monkeypatch):
    code, out, _ = run_cli(
        ["solve", INSTANCE, "--solver", "llm", "--llm-replay", RECORDING, "--iterations", OPTIONS["iterations"]],
        capsys,
        monkeypatch,
    )
    assert code == 0
    stats = json.loads(out)["stats"]
    for key in ("llm_calls", "prompt_tokens", "completion_tokens", "invalid_outputs", "repaired", "retried", "seconds"):
        assert key in stats
    assert stats["llm_calls"] > 0 and stats["prompt_tokens"] > 0


def record_fixture() -> None:
    """Run the embedded model for real and write the instance, the recording and the expected summary."""
    data = generate_instance(make_params("default", M=3, N=5, I=4), seed=1).to_json()
    write_json(INSTANCE, data)
    RECORDING.unlink(missing_ok=True)  # a recording is appended to, never overwritten
    _, _, res = solve(data, "llm", 0, llm_record=str(RECORDING), **OPTIONS)
    write_json(EXPECTED, summary(res))
    print(json.dumps(summary(res)["stats"], indent=1))


if __name__ == "__main__":
    record_fixture()
