"""Compact state text, one-token id answers, their reward, the choice grammar and the shipped adapters."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import offloadlab.papers.mec_queues.plugin  # noqa: F401  (registers the scenario and its solvers)
from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import RunConfig
from offloadlab.llm.embedded import ChoiceConstraint, resolve_model
from offloadlab.llm.finetune.adapters import MANIFEST
from offloadlab.methods.mec_queues import llm_policies
from offloadlab.scenarios.mec_queues import comllm
from offloadlab.scenarios.mec_queues.compact import (
    Naming,
    answer_pool,
    compact_messages,
    compact_text,
    id_answer,
    parse_id,
    random_naming,
    valid_ids,
)
from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.text import state_from_params

CLI = [sys.executable, "-m", "offloadlab"]
PLUGIN_ENV = {**os.environ, "OFFLOADLAB_PLUGINS": "offloadlab.papers.mec_queues.plugin"}


def hand_state(servers: int, task: float = 3.46, local_wait: float = 4.0, net_wait: float = 1.0):
    """A state written by hand: server s has s - 1 active tasks and a queue of 1.25 s Mbit."""
    params = make_params("comllm", servers=servers)
    return state_from_params(
        params, task, local_wait, net_wait, list(range(servers)), [1.25 * (s + 1) for s in range(servers)]
    )


@pytest.mark.parametrize("servers", [6, 11])
def test_compact_text_by_hand(servers):
    text = compact_text(hand_state(servers))
    lines = text.splitlines()
    assert len(lines) == servers + 2  # header, one line per server, the task last
    assert lines[0] == "upload 1.4 Mbit/slot; server:GHz,active tasks,queue Mbit"
    assert lines[1] == "A:42,0,1.2"  # 41.8 GHz, 0 active, 1.25 Mbit rounded half to even
    assert lines[3] == "C:22,2,3.8"
    last = "ABCDEFGHIJK"[servers - 1]
    assert lines[servers] == f"{last}:{[42, 30, 22][(servers - 1) % 3]},{servers - 1},{1.25 * servers:.1f}"
    assert lines[-1] == "task 3.5 Mbit, local wait 4, net wait 1"


def test_a_naming_shows_servers_in_its_order_under_its_letters():
    naming = Naming((2, 0, 1), ("B", "E", "F"))
    lines = compact_text(hand_state(3), naming).splitlines()
    assert lines[1:4] == ["B:22,2,3.8", "E:42,0,1.2", "F:30,1,2.5"]  # line k shows server order[k]
    assert [naming.answer(a) for a in range(4)] == ["0", "E", "F", "B"]
    assert parse_id("B", 3, naming) == 3 and parse_id("A", 3, naming) is None and parse_id("0", 3, naming) == 0


@settings(max_examples=50, deadline=None)
@given(servers=st.integers(1, 12), extra=st.integers(0, 14), seed=st.integers(0, 2**32 - 1))
def test_random_namings_round_trip(servers, extra, seed):
    pool = min(servers + extra, 26)
    naming = random_naming(servers, pool, np.random.default_rng(seed))
    assert sorted(naming.order) == list(range(servers)) and list(naming.names) == sorted(set(naming.names))
    assert set(naming.names) <= set(answer_pool(pool)[1:])
    assert [naming.action(naming.answer(a)) for a in range(servers + 1)] == list(range(servers + 1))


@pytest.fixture(scope="module")
def vocab():
    import llama_cpp

    return llama_cpp.Llama(model_path=str(resolve_model("smollm2")[0]), vocab_only=True, verbose=False)


@pytest.mark.parametrize(("servers", "limit"), [(6, 250), (11, 400)])
def test_compact_prompt_fits_its_token_limit(vocab, servers, limit):
    system, user = (m["content"] for m in compact_messages(hand_state(servers)))
    chat = f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
    n = len(vocab.tokenize(chat.encode(), add_bos=False, special=True))
    assert 60 < n <= limit
    for answer in valid_ids(26):  # every answer is one token, at any S the compact state names
        assert len(vocab.tokenize(answer.encode(), add_bos=False, special=False)) == 1


@pytest.mark.parametrize(
    ("text", "servers", "want"),
    [("C", 6, 3), (" 0\n", 6, 0), ("F", 6, 6), ("G", 6, None), ("K", 11, 11), ("L", 11, None),
     ("3", 6, None), ("", 6, None), ("server C", 6, None), ("C D", 6, None), ("c", 6, None), ("-1", 6, None)],
)  # fmt: skip
def test_parse_id(text, servers, want):
    assert parse_id(text, servers) == want


def test_id_reward_keeps_the_authors_task_term():
    state = hand_state(6)
    rng = np.random.default_rng(0)
    rewards = [comllm.reward(id_answer(a, 6), state, "grpo", rng, answer="id") for a in range(7)]
    costs = comllm.comllm_costs(state)
    assert int(np.argmax(rewards)) == comllm.comllm_oracle(state)
    # 0.8 (1 - C) + 0.2 x 1.5 while C <= 10
    ok = costs <= 10
    assert np.allclose(np.array(rewards)[ok], 0.8 * (1 - costs[ok]) + 0.3)
    assert comllm.reward("G", state, "grpo", rng, answer="id") == pytest.approx(0.8 * -10 + 0.2 * -2)


class FakeVocab:
    """Every character is one token (its code point); end of sequence is 999."""

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return [ord(c) for c in text.decode()]

    def token_eos(self) -> int:
        return 999


def test_choice_grammar_allows_exactly_the_valid_ids():
    grammar = ChoiceConstraint(FakeVocab(), valid_ids(11))
    assert grammar.allowed(()) == [ord("0"), *range(ord("A"), ord("K") + 1)]
    assert grammar.allowed((ord("C"),)) == [999]  # one token, then the end
    scores = np.zeros(1000, dtype=np.float32)
    first = grammar(np.array([5, 5, 5]), scores.copy())
    assert np.isfinite(first).sum() == 12
    after = grammar(np.array([5, 5, 5, ord("D")]), scores.copy())
    assert np.flatnonzero(np.isfinite(after)).tolist() == [999]


def test_shipped_adapters_have_a_manifest():
    manifest = json.loads((llm_policies.SHIPPED_ADAPTERS / MANIFEST).read_text())
    total = 0
    for method in ("sft", "grpo", "comllm"):
        entry = manifest["adapters"][f"{method}.gguf"]
        path = llm_policies.SHIPPED_ADAPTERS / f"{method}.gguf"
        total += path.stat().st_size
        assert entry["method"] == method and entry["answer"] == "id" and entry["trained_servers"] == 6
        assert entry["names"] == "letters" and entry["transfer_servers"] == 11
        assert entry["records"]["train"] + entry["records"]["val"] >= 2000 and 0 < entry["val_accuracy"] <= 1
        assert entry["wall_s"] > 0 and len(entry["commit"]) == 40
    assert total <= 20 * 2**20


@pytest.mark.parametrize("servers", [6, 11])
def test_shipped_adapters_give_valid_ids(servers):
    """Each shipped adapter loads beside the embedded model and answers valid ids on fixed states."""
    from offloadlab.llm import LLMOptions, Request, make_client

    for method in ("sft", "comllm"):
        path, meta = llm_policies.trained_adapter(method, None)
        extra = {"top_p": 0.9, "repeat_penalty": 1.1, "guided_choice": valid_ids(servers), "lora_path": path}
        client = make_client(LLMOptions(model=meta["base_model"], extra=extra, threads=1))
        for k, (task, wait) in enumerate([(2.1, 0.0), (4.9, 7.0)]):
            state = hand_state(servers, task, wait)
            reply = client.complete(Request(tuple(compact_messages(state)), 0.7, 2, None, k))
            assert parse_id(reply.text, servers) is not None, reply.text


def test_missing_adapter_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFLOADLAB_TRAIN_DIR", str(tmp_path))
    monkeypatch.setattr(llm_policies, "SHIPPED_ADAPTERS", tmp_path / "none")
    with pytest.raises(InputError, match="no trained grpo adapter"):
        llm_policies.trained_adapter("grpo", None)
    bad = tmp_path / "x.gguf"
    bad.write_text("not an adapter")
    with pytest.raises(InputError, match="is not a GGUF adapter"):
        llm_policies.trained_adapter("sft", str(bad))
    untrained = tmp_path / "u.gguf"
    untrained.write_bytes(b"GGUF" + bytes(8))
    with pytest.raises(InputError, match="no training summary"):
        llm_policies.trained_adapter("sft", str(untrained))


def test_missing_adapter_cli_exit_2(tmp_path):
    inst = tmp_path / "inst.json"
    inst.write_text(json.dumps(PROBLEM.make_instance(0, "comllm", devices=2, servers=6, slots=3)))
    run = subprocess.run(
        [*CLI, "solve", str(inst), "--solver", "comllm", "--adapter", str(tmp_path / "nope.gguf")],
        capture_output=True,
        text=True,
        env=PLUGIN_ENV,
        timeout=120,
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "no trained comllm adapter" in lines[0] and "nope.gguf" in lines[0]


def test_run_keys_name_the_adapter_they_play(tmp_path):
    """A stored run of one adapter is not taken for another's: the key holds the adapter's content hash."""
    adapter = tmp_path / "adapter.gguf"
    adapter.write_bytes(b"GGUF" + bytes(8))
    (tmp_path / "summary.json").write_text(json.dumps({"answer": "id", "names": "letters", "method": "comllm"}))
    first = llm_policies.played_file("comllm", {"adapter": str(adapter)})
    adapter.write_bytes(b"GGUF" + bytes(9))
    second = llm_policies.played_file("comllm", {"adapter": str(adapter)})
    assert first and second and first != second
    assert llm_policies.played_file("comllm", {"adapter": str(tmp_path / "none.gguf")}) is None
    spec = {"scenario": "mec-queues", "preset": "comllm", "params": {}, "instance_seed": 0, "solver": "comllm",
            "options": {}, "budget": None, "repetition": 0, "solver_seed": 0}  # fmt: skip
    keys = {RunConfig(**spec, artefact=a).key for a in (first, second)}
    assert len(keys) == 2
    # solvers of no trained file keep the keys they had before the field existed
    plain = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:24]
    assert RunConfig(**spec).key == plain
