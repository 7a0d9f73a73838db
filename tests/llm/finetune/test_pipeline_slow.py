"""The pipeline for real on the shipped SmolLM2-135M (slow: -m slow): SFT interrupted and resumed, the
adapter reloaded, GRPO on top of the merged SFT model, the GGUF export answering in llama.cpp."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import numpy as np
import pytest

from offloadlab.llm.finetune.config import make_config
from offloadlab.llm.finetune.records import prompt_messages

pytestmark = pytest.mark.slow


def synthetic_records(n: int = 16, seed: int = 0) -> list[dict[str, Any]]:
    """Two-server records whose oracle picks the less loaded server."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(0, 9), rng.randint(0, 9)
        out.append(
            {
                "instruction": "Choose the edge server with the shorter queue. Output only the decision name.",
                "input": {
                    "task size": f"{rng.uniform(2, 5):.2f} Mbits",
                    "server 1 queue": f"{a} tasks",
                    "server 2 queue": f"{b} tasks",
                },
                "output": {"action_name": f"offload to server {1 if a <= b else 2}"},
            }
        )
    return out


def toy_reward(record: dict[str, Any], text: str) -> float:
    """1 for the oracle's answer, minus a length term so that a group's rewards differ."""
    return float(record["output"]["action_name"] in text.lower()) - len(text) / 100


class Crash(Exception):
    """Stands for a killed run."""


def crash_at(step: int) -> Any:
    """A callback that stops training once ``step`` is done (after the checkpoint at ``step - 1``)."""
    from transformers import TrainerCallback

    class CrashCallback(TrainerCallback):  # type: ignore[misc]
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == step:
                raise Crash

    return CrashCallback()


def last_logits(model: Any, tokenizer: Any, messages: list[dict[str, str]]) -> np.ndarray:
    """Next-token logits after the chat prompt."""
    import torch

    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(**ids).logits[0, -1].float().numpy()


@pytest.mark.timeout(1800)  # ~6 min measured on 2 loaded cores; the margin is for heavier load
def test_sft_resume_reload_grpo_and_gguf(tmp_path):
    import llama_cpp
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from offloadlab.llm.finetune.model import load_model, load_tokenizer, resolve_base
    from offloadlab.llm.finetune.train import grpo, sft

    records = synthetic_records()
    cfg = make_config("cpu", {"sft": {"max_steps": 4, "save_steps": 2}, "grpo": {"max_steps": 2, "save_steps": 1}})
    times: dict[str, float] = {}

    t = time.perf_counter()
    with pytest.raises(Crash):
        sft(records, cfg, tmp_path / "sft", progress=False, callbacks=[crash_at(3)])
    times["sft_interrupted"] = time.perf_counter() - t
    run = json.loads((tmp_path / "sft" / "run.json").read_text())
    assert run["segments"][0]["status"] == "interrupted" and run["segments"][0]["to_step"] == 3 and not run["done"]
    assert (tmp_path / "sft" / "checkpoints" / "checkpoint-2").is_dir()

    t = time.perf_counter()
    res = sft(records, cfg, tmp_path / "sft", progress=False)
    times["sft_resumed"] = time.perf_counter() - t
    run = json.loads((tmp_path / "sft" / "run.json").read_text())
    assert res.steps == 4 and res.segments == 2 and run["done"]
    assert run["segments"][1]["from_step"] == 2 and run["segments"][1]["status"] == "finished"
    assert res.wall_s == pytest.approx(run["segments"][0]["wall_s"] + run["segments"][1]["wall_s"])
    curve = json.loads(res.curve.read_text())
    assert curve["metric"] == "loss" and [p["step"] for p in curve["points"]] == [1, 2, 3, 4]
    assert all(np.isfinite(p["value"]) and p["value"] > 0 for p in curve["points"])
    assert sft(records, cfg, tmp_path / "sft", progress=False).segments == 2  # finished: returned as it is

    # the saved adapter, reloaded on the base, is the merged model, and differs from the base
    base = resolve_base("smollm2")
    tok = load_tokenizer(base)
    msgs = prompt_messages(records[0], cfg.system_prompt, cfg.input_heading)
    plain = last_logits(load_model(base, "float32"), tok, msgs)
    adapted = PeftModel.from_pretrained(load_model(base, "float32"), str(res.adapter)).eval()
    merged = AutoModelForCausalLM.from_pretrained(str(res.merged)).eval()
    assert np.allclose(last_logits(adapted, tok, msgs), last_logits(merged, tok, msgs), atol=1e-3)
    assert not np.allclose(plain, last_logits(merged, tok, msgs), atol=1e-3)

    t = time.perf_counter()
    g = grpo(records, toy_reward, cfg, tmp_path / "grpo", base=tmp_path / "sft", progress=False)
    times["grpo"] = time.perf_counter() - t
    run = json.loads((tmp_path / "grpo" / "run.json").read_text())
    assert g.steps == 2 and run["identity"]["base"]["folder"] == str(res.merged.resolve())
    points = json.loads(g.curve.read_text())["points"]
    assert [p["step"] for p in points] == [1, 2] and all(p["value"] <= 1.0 for p in points)

    assert g.gguf is not None and g.gguf.stat().st_size > 50e6
    t = time.perf_counter()
    llm = llama_cpp.Llama(model_path=str(g.gguf), n_ctx=1024, n_threads=1, verbose=False)
    reply = llm.create_chat_completion(msgs, temperature=0.0, max_tokens=15)["choices"][0]["message"]["content"]
    llm.close()
    times["gguf_answer"] = time.perf_counter() - t
    assert isinstance(reply, str) and reply.strip()
    print("wall times (s):", {k: round(v, 1) for k, v in times.items()}, "answer:", repr(reply))


@pytest.mark.timeout(1200)
def test_export_of_the_untouched_base_answers_like_the_shipped_gguf(tmp_path):
    import llama_cpp

    from offloadlab.llm.finetune.export import write_gguf
    from offloadlab.llm.finetune.model import load_model, resolve_base

    base = resolve_base("smollm2")
    assert base.origin_gguf is not None
    out = write_gguf(load_model(base, "float32").state_dict(), base.origin_gguf, tmp_path / "base.gguf", "q8_0")
    msgs = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
    answers = []
    for path in (base.origin_gguf, out):
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=1, verbose=False)
        answers.append(llm.create_chat_completion(msgs, temperature=0.0, max_tokens=12)["choices"][0]["message"])
        llm.close()
    assert answers[0]["content"] == answers[1]["content"] and "Paris" in answers[1]["content"]
