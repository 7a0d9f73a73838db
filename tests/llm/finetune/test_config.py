"""Fine-tuning config, records and run-folder bookkeeping (fast: no torch)."""

from __future__ import annotations

import json

import pytest

from offloadlab.core.errors import InputError
from offloadlab.llm.finetune.config import ALL_PROJECTIONS, PROFILES, load_config, make_config
from offloadlab.llm.finetune.records import answer_text, check_records, fingerprint, input_text, prompt_messages
from offloadlab.llm.finetune.run_state import Curve, RunState

RECORD = {
    "instruction": "Pick a server.",
    "input": {"size": "4.2 Mbits", "load": [1.0, 2.0]},
    "output": {"action_name": "offload to server 1"},
}


def test_paper_profile_holds_the_authors_settings():
    c = make_config("paper")
    assert (c.lora.r, c.lora.alpha, c.lora.dropout, c.lora.target_modules) == (64, 128, 0.05, ALL_PROJECTIONS)
    assert (c.sft.learning_rate, c.sft.lr_scheduler, c.sft.warmup_ratio, c.sft.epochs) == (1e-5, "cosine", 0.1, 1.0)
    assert (c.sft.batch_size, c.sft.grad_accum, c.sft.max_grad_norm, c.sft.max_length) == (2, 4, 0.3, 2048)
    g = c.grpo
    assert (g.learning_rate, g.beta, g.temperature, g.top_p, g.max_completion_length) == (5e-6, 0.005, 1.3, 0.95, 15)
    assert (g.num_generations, g.generation_batch_size, g.batch_size, g.grad_accum) == (8, 8, 1, 4)
    assert (c.evaluation.temperature, c.evaluation.top_p) == (0.7, 0.9)
    assert c.dtype == "bfloat16" and c.sft.max_steps is None and c.grpo.max_steps is None
    assert make_config("paper-comllm").grpo.num_generations == 4


def test_cpu_profile_is_small_and_bounded():
    c = make_config("cpu")
    assert c.model == "smollm2" and c.dtype == "float32" and c.lora.r <= 16
    assert c.sft.max_steps is not None and c.sft.max_steps <= 50 and c.grpo.max_steps is not None
    assert c.grpo.max_completion_length == 15 and c.grpo.temperature == 1.3  # the authors' sampling kept


def test_overrides_merge_into_nested_groups():
    c = load_config({"profile": "cpu", "sft": {"max_steps": 3}, "grpo": {"beta": 0.0}})
    assert c.sft.max_steps == 3 and c.sft.learning_rate == make_config("cpu").sft.learning_rate
    assert c.grpo.beta == 0.0 and c.profile == "cpu"


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"sft": {"learning_rate": 0}}, "finetune.sft.learning_rate"),
        ({"sft": {"warmup_ratio": 1.0}}, "finetune.sft.warmup_ratio"),
        ({"lora": {"dropout": 1.0}}, "finetune.lora.dropout"),
        ({"lora": {"target_modules": []}}, "finetune.lora.target_modules"),
        ({"grpo": {"num_generations": 3}}, "finetune.grpo"),
        ({"grpo": {"top_p": 1.5}}, "finetune.grpo.top_p"),
        ({"grpo": {"max_completion_length": 0}}, "finetune.grpo.max_completion_length"),
        ({"export": "q4_k"}, "finetune.export"),
        ({"epochs": 2}, "finetune.epochs"),
        ({"profile": "gpu"}, "finetune.profile"),
    ],
)
def test_invalid_config_is_one_line_naming_the_field(bad, field):
    with pytest.raises(InputError) as err:
        load_config(bad)
    assert err.value.field == field and "\n" not in str(err.value)


def test_config_file_errors(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"profile": "cpu", "sft": {"batch_size": 2}}))
    assert load_config(path).sft.batch_size == 2
    path.write_text("{not json")
    with pytest.raises(InputError, match="cannot read config"):
        load_config(path)
    assert set(PROFILES) == {"paper", "paper-comllm", "cpu"}


def test_chat_rendering_follows_the_authors_layout():
    msgs = prompt_messages(RECORD, "SYS", "**Input data**:")
    assert msgs[0] == {"role": "system", "content": "SYS"}
    assert msgs[1]["content"] == "Pick a server.\n\n**Input data**:\nsize: 4.2 Mbits\nload: [1.0, 2.0]"
    assert answer_text(RECORD) == "offload to server 1" and answer_text({**RECORD, "output": "local"}) == "local"
    assert input_text("already text") == "already text"


@pytest.mark.parametrize(
    "records, field",
    [
        ([], "records"),
        ([{"input": {}, "output": "x"}], "records[0].instruction"),
        ([RECORD, {"instruction": "i", "input": 3, "output": "x"}], "records[1].input"),
        ([{"instruction": "i", "input": "s", "output": {"action": "x"}}], "records[0].output"),
    ],
)
def test_malformed_records_are_refused(records, field):
    with pytest.raises(InputError) as err:
        check_records(records)
    assert err.value.field == field


def test_grpo_records_need_no_answer_and_fingerprint_sees_changes():
    assert check_records([{"instruction": "i", "input": "s"}], need_output=False)
    other = {**RECORD, "input": {"size": "4.3 Mbits", "load": [1.0, 2.0]}}
    assert fingerprint([RECORD]) == fingerprint([dict(RECORD)]) != fingerprint([other])


def test_run_state_refuses_another_identity_and_sums_segments(tmp_path):
    state = RunState(tmp_path, {"kind": "sft", "records": "a"})
    state.close_segment(0, 3, "interrupted")
    again = RunState(tmp_path, {"kind": "sft", "records": "a"})
    assert not again.done and len(again.data["segments"]) == 1
    again.close_segment(2, 4, "finished")
    again.finish({"steps": 4})
    assert RunState(tmp_path, {"kind": "sft", "records": "a"}).done
    assert again.data["wall_s"] == pytest.approx(sum(s["wall_s"] for s in again.data["segments"]))
    with pytest.raises(InputError, match="another config"):
        RunState(tmp_path, {"kind": "sft", "records": "b"})


def test_curve_keeps_points_up_to_the_resumed_checkpoint(tmp_path):
    curve = Curve(tmp_path / "curve.json", "sft", "loss", 0, 0.0)
    for step in (1, 2, 3):
        curve.add(step, {"loss": 3.0 - step, "grad_norm": 1.0, "note": "x"})
    curve.add(4, {"train_runtime": 9.0})  # no metric: not a point
    resumed = Curve(tmp_path / "curve.json", "sft", "loss", 2, 5.0)
    assert [p["step"] for p in resumed.points] == [1, 2]
    data = json.loads((tmp_path / "curve.json").read_text())
    assert data["metric"] == "loss" and data["points"][0] == {**data["points"][0], "value": 2.0, "grad_norm": 1.0}
    assert "note" not in data["points"][0]
