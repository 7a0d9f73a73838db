"""The tuned optimizer of satellite-mec (an extension): compact text and labels, the shipped adapter in the
loop, the missing-adapter error; a tiny training that exports and reloads its adapter is slow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401
import offloadlab.papers.satellite_mec.plugin  # noqa: F401
from offloadlab.core.config import parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.core.trainers import get_trainer
from offloadlab.llm.templates import PromptBook
from offloadlab.methods.satellite_mec.llm_tuned import SHIPPED_ADAPTER, WORDING, TunedProposer, find_adapter
from offloadlab.methods.satellite_mec.tuned_training import TunedConfig, TunedData, questions, shape_of, train_tuned
from offloadlab.scenarios.satellite_mec.compact import choices_of, compact_table, decided_text, decision_of
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from offloadlab.solvers.llm_opro import Example, ExamplePool

CLI = [sys.executable, "-m", "offloadlab"]


def _inst(M=3, N=5, I=4, seed=3):
    return PROBLEM.load_instance(PROBLEM.make_instance(seed, "default", M=M, N=N, I=I))


def test_choices_and_decisions_round_trip_on_a_hand_made_decision():
    inst = _inst(M=2, N=3, I=3)
    offload = np.array([[0, 0, 1], [1, 0, 0]], dtype=float)  # T1 -> sat 2, T2 local, T3 -> sat 1
    power = np.array([[0.05, 0.0, 0.15], [0.0, 0.0, 0.0], [0.2, 0.0, 0.0]])
    choices = choices_of(offload, power)
    assert choices == [(2, 3), (0, 0), (1, 1)]
    d = decision_of(inst, choices)
    assert np.array_equal(d["offload"], offload)
    assert d["power_w"].tolist() == [[0, 0, 0.2], [0, 0, 0], [0.2, 0, 0]]
    assert decided_text(choices) == "1:s2c3 2:s0 3:s1c1"
    with pytest.raises(InputError, match="terminal 1"):
        decision_of(inst, [(3, 1), (0, 0), (0, 0)])


def test_questions_of_an_instance_are_teacher_forced_in_decoding_order():
    inst = _inst(M=2, N=3, I=3)
    qs = questions(inst, [(2, 3), (0, 0), (1, 1)])
    assert [(k, a) for _, k, a in qs] == [("target", 2), ("channel", 3), ("target", 0), ("target", 1), ("channel", 1)]
    users = [m[-1]["content"].splitlines()[-2:] for m, _, _ in qs]
    assert users[0][-1] == "T1 target?" and not users[0][0].startswith("decided")
    assert users[1] == ["decided: 1:s2", "T1 sub-channel?"]
    assert users[2] == ["decided: 1:s2c3", "T2 target?"]
    assert users[4] == ["decided: 1:s2c3 2:s0 3:s1", "T3 sub-channel?"]
    table = compact_table(inst)
    assert all(m[-1]["content"].startswith(table) for m, _, _ in qs)  # one shared prefix per instance


def test_table_numbers_agree_with_the_problems_own_description():
    inst = _inst(M=3, N=4, I=4)
    facts = PROBLEM.describe(inst)
    rows = compact_table(inst).splitlines()[1:]
    for n, row in enumerate(rows):
        head, *sats = row.split(" | ")
        assert head == f"T{n + 1} L{round(facts['local_latency_s'][n] * 100)}"
        for m, cell in enumerate(sats):
            upload, rank = cell.split()
            assert int(upload) == round(facts["upload_s"][n][m] * 100)
            snr = facts["link_snr_db"][m][n]
            assert [snr[int(c) - 1] for c in rank] == sorted(snr, reverse=True)


def test_training_shapes_follow_the_ranges_and_the_paper_share():
    data = parse_model(TunedData, {"paper_share": 0.0, "M": [2, 2], "N": [5, 6], "I": [3, 3]}, "data")
    shapes = [shape_of(data, s) for s in range(20_000, 20_040)]
    assert {s["M"] for s in shapes} == {2} and {s["I"] for s in shapes} == {3} and {s["N"] for s in shapes} == {5, 6}
    paper = parse_model(TunedData, {"paper_share": 1.0}, "data")
    with pytest.raises(InputError, match="N must be"):
        parse_model(TunedData, {"N": [6, 5]}, "data")
    assert all((s["M"], s["I"]) == (3, 4) for s in (shape_of(paper, k) for k in range(30)))


def test_proposer_writes_whole_then_rewrites_terminals_of_the_pools_best(tmp_path):
    inst = _inst(M=2, N=4, I=3)
    adapter = tmp_path / "a.gguf"
    adapter.write_bytes(b"GGUF")
    fmt = PromptBook(PROBLEM.manifest.prompt_dir, WORDING).answer_format(PROBLEM.decision_space(inst))
    proposer = TunedProposer(inst, fmt, adapter, 1, rewrite=1)
    asked = []

    def ask(choices, n, question, temperature, seed, left):  # a scripted model: satellite 2, sub-channel 3
        asked.append((n, question, decided_text(choices)))
        return 2 if question == "target" else 3

    proposer.ask = ask
    pool = ExamplePool(3)
    best = decision_of(inst, [(1, 1), (0, 0), (1, 2), (0, 0)])
    pool.add(Example(best, 0.5, fmt.text(best)))
    proposer.pool = pool
    first = proposer.decide(1.0, 0, 1e9)
    assert choices_of(first["offload"], first["power_w"]) == [(2, 3)] * 4 and len(asked) == 8
    asked.clear()
    second = proposer.decide(1.0, 1, 1e9)
    changed = [
        c for c, b in zip(choices_of(second["offload"], second["power_w"]), [(1, 1), (0, 0), (1, 2), (0, 0)]) if c != b
    ]
    assert len(asked) == 2 and asked[0][1] == "target" and asked[1][1] == "channel" and changed == [(2, 3)]
    n = asked[0][0]
    assert asked[0][2] == decided_text([(1, 1), (0, 0), (1, 2), (0, 0)][:n])  # after the best's earlier terminals


def test_uniform_digit_control_needs_no_model():
    inst = _inst(M=3, N=6, I=4)
    fmt = PromptBook(PROBLEM.manifest.prompt_dir, WORDING).answer_format(PROBLEM.decision_space(inst))
    proposer = TunedProposer(inst, fmt, None, 1)
    choices = [choices_of(d["offload"], d["power_w"]) for d in (proposer.decide(1.0, s, 1e9) for s in range(30))]
    assert {t for c in choices for t, _ in c} == {0, 1, 2, 3} and {ch for c in choices for _, ch in c} == {
        0,
        1,
        2,
        3,
        4,
    }
    assert proposer.questions >= 30 * 6 and proposer.prompt_tokens == 0 and proposer.model == "uniform digits"


def test_train_without_method_picks_the_only_trainer():
    assert get_trainer("satellite-mec", None).method == "sft"
    with pytest.raises(InputError, match="several training methods"):
        get_trainer("mec-queues", None)


@pytest.mark.parametrize("shape", [(3, 5, 4), (2, 4, 2)])
def test_shipped_adapter_gives_valid_decisions_in_the_loop(shape):
    M, N, I = shape
    data = PROBLEM.make_instance(11, "default", M=M, N=N, I=I)
    _, _, res = solve(data, "llm-tuned", 0, None, iterations=2, patience=2, llm_threads=1)
    assert res.stats["usable_answers"] >= 2 and res.stats["invalid_outputs"] == 0
    assert res.stats["extension"] is True and res.stats["tuned_questions"] >= N + 1
    assert res.stats["adapter"].endswith("llm-tuned.gguf") and res.feasible
    offload = np.asarray(res.decision["offload"])
    assert offload.shape == (M, N) and set(np.unique(offload)) <= {0.0, 1.0} and offload.sum(axis=0).max() <= 1


def test_shipped_adapter_has_a_manifest_and_the_config_that_trained_it():
    manifest = json.loads((SHIPPED_ADAPTER.parent / "manifest.json").read_text())
    entry = manifest["adapters"][SHIPPED_ADAPTER.name]
    assert SHIPPED_ADAPTER.stat().st_size < 8_000_000
    assert 0 < entry["val_accuracy"] <= 1 and entry["steps"] > 0 and entry["base_gguf"].endswith(".gguf")
    assert "offloadlab train satellite-mec --config" in manifest["regenerate"]
    config = json.loads((SHIPPED_ADAPTER.parent / "llm-tuned_config.json").read_text())
    cfg = parse_model(TunedConfig, config, "config")
    assert json.loads(cfg.data.model_dump_json()) == entry["data"] and cfg.top_layers == entry["lora"]["top_layers"]


def test_missing_adapter_is_one_line_exit_2(tmp_path):
    with pytest.raises(InputError, match="no trained llm-tuned adapter"):
        find_adapter(str(tmp_path / "none.gguf"))
    bad = tmp_path / "x.gguf"
    bad.write_text("not a model")
    with pytest.raises(InputError, match="is not a GGUF adapter"):
        find_adapter(str(bad))
    inst = tmp_path / "inst.json"
    inst.write_text(json.dumps(PROBLEM.make_instance(1, "default", M=2, N=3, I=2)))
    proc = subprocess.run(
        [*CLI, "solve", str(inst), "--solver", "llm-tuned", "--adapter", str(tmp_path / "none.gguf")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no trained llm-tuned adapter" in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_tiny_two_step_training_exports_and_reloads(tmp_path):
    tiny = {"threads": 1, "data": {"train_instances": 1, "val_instances": 1, "N": [3, 3]},
            "sft": {"max_epochs": 2, "batch_size": 64}}  # fmt: skip
    summary = train_tuned(tmp_path, tiny)
    assert summary["steps"] == 2 and summary["epochs"] == 2 and 0 <= summary["val_accuracy"] <= 1
    adapter = tmp_path / "sft" / "adapter.gguf"
    assert adapter.read_bytes()[:4] == b"GGUF"
    data = PROBLEM.make_instance(4, "default", M=3, N=3, I=4)
    _, _, res = solve(data, "llm-tuned", 0, None, adapter=str(adapter), iterations=1, llm_threads=1)
    assert res.stats["usable_answers"] == 1 and res.stats["adapter"] == str(adapter)
