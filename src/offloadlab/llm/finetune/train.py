"""SFT and GRPO with TRL + PEFT LoRA: resumable runs, progress, curves, wall time, merged model, GGUF export.

Folder of a run (``out_dir``): ``run.json`` (identity, wall-time segments, outputs), ``checkpoints/``
(Trainer checkpoints: the resume points), ``curve.json`` (SFT loss / GRPO reward per logged step),
``adapter/`` (the final LoRA adapter), ``merged/`` (base + adapter, a plain HF model folder: the base of
a following GRPO run) and ``model.gguf`` (the merged model for llama.cpp, unless ``export`` is "none").
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError
from offloadlab.llm.finetune.config import FinetuneConfig, LoraSettings
from offloadlab.llm.finetune.model import BaseModel, load_model, load_tokenizer, resolve_base, save_merged
from offloadlab.llm.finetune.records import Record, answer_text, check_records, fingerprint, prompt_messages
from offloadlab.llm.finetune.run_state import Curve, RunState

Reward = Callable[[Record, str], float]


@dataclass(frozen=True)
class TrainResult:
    """What a finished run left in its folder."""

    out_dir: Path
    adapter: Path
    merged: Path
    gguf: Path | None
    curve: Path
    steps: int
    wall_s: float
    segments: int


def _identity(kind: str, config: FinetuneConfig, records: Sequence[Record], base: BaseModel) -> dict[str, Any]:
    """What must not change between a run and its resumption."""
    return {
        "kind": kind,
        "records": fingerprint(records),
        "n_records": len(records),
        "base": base.describe(),
        "config": config.model_dump(
            mode="json", include={"model", "dtype", "seed", "system_prompt", "input_heading", "lora", kind}
        ),
    }


def _lora(settings: LoraSettings) -> Any:
    """PEFT LoRA config for a causal LM."""
    from peft import LoraConfig

    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        bias="none",
        task_type="CAUSAL_LM",
        target_modules=list(settings.target_modules),
    )


def _common_args(config: FinetuneConfig, out_dir: Path, progress: bool, kind: str) -> dict[str, Any]:
    """Trainer arguments shared by SFT and GRPO."""
    s = config.sft if kind == "sft" else config.grpo
    return dict(
        output_dir=str(out_dir / "checkpoints"),
        learning_rate=s.learning_rate,
        lr_scheduler_type=s.lr_scheduler,
        warmup_steps=s.warmup_ratio,
        num_train_epochs=s.epochs,
        max_steps=s.max_steps or -1,
        per_device_train_batch_size=s.batch_size,
        gradient_accumulation_steps=s.grad_accum,
        max_grad_norm=s.max_grad_norm,
        logging_steps=s.logging_steps,
        save_strategy="steps",
        save_steps=s.save_steps,
        report_to="none",
        seed=config.seed,
        data_seed=config.seed,
        bf16=config.dtype == "bfloat16",
        optim="adamw_torch",
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        gradient_checkpointing=s.gradient_checkpointing,
    )


def _curve_callback(curve: Curve) -> Any:
    """A Trainer callback that feeds the curve at every log."""
    from transformers import TrainerCallback

    class CurveCallback(TrainerCallback):  # type: ignore[misc]
        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
        ) -> None:
            curve.add(state.global_step, logs or {})

    return CurveCallback()


def _train(
    kind: str, trainer: Any, state: RunState, curve_metric: str, base: BaseModel, tokenizer: Any, config: FinetuneConfig
) -> TrainResult:
    """Run (or resume) the trainer, then save the adapter, the merged model and the GGUF export."""
    from transformers.trainer_utils import get_last_checkpoint

    out = state.out_dir
    ckpt_dir = out / "checkpoints"
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.is_dir() else None
    from_step = int(Path(last).name.split("-")[-1]) if last else 0
    curve = Curve(out / "curve.json", kind, curve_metric, from_step, state.prior_wall_s())
    trainer.add_callback(_curve_callback(curve))
    try:
        trainer.train(resume_from_checkpoint=last)
    except BaseException:  # Ctrl-C included: keep the wall time of the part that ran
        state.close_segment(from_step, int(trainer.state.global_step), "interrupted")
        raise
    t_trained = time.perf_counter()
    model = trainer.model
    model.save_pretrained(str(out / "adapter"))
    tokenizer.save_pretrained(str(out / "adapter"))
    merged = model.merge_and_unload()
    merged.config.use_cache = True
    save_merged(merged, tokenizer, out / "merged", base.origin_gguf)
    t_merged = time.perf_counter()
    gguf = None
    if config.export != "none":
        from offloadlab.llm.finetune.export import write_gguf

        if base.origin_gguf is None:
            raise InputError("export", "the base model has no GGUF origin to take metadata from; set export 'none'")
        gguf = write_gguf(
            merged.state_dict(),
            base.origin_gguf,
            out / "model.gguf",
            config.export,
            name=f"{kind} fine-tune of {base.origin_gguf.stem}",
        )
    timings = {"save_merge_s": round(t_merged - t_trained, 1), "export_s": round(time.perf_counter() - t_merged, 1)}
    state.close_segment(from_step, int(trainer.state.global_step), "finished")
    result = TrainResult(
        out,
        out / "adapter",
        out / "merged",
        gguf,
        out / "curve.json",
        int(trainer.state.global_step),
        state.prior_wall_s(),
        len(state.data["segments"]),
    )
    state.finish(
        {
            "adapter": str(result.adapter),
            "merged": str(result.merged),
            "gguf": str(gguf) if gguf else None,
            "curve": str(result.curve),
            "steps": result.steps,
            "train_runtime_s": trainer.state.log_history[-1].get("train_runtime")
            if trainer.state.log_history
            else None,
            **timings,
        }
    )
    return result


def _finished(state: RunState) -> TrainResult:
    """The result of a run that an earlier call finished."""
    o = state.data["outputs"]
    return TrainResult(
        state.out_dir,
        Path(o["adapter"]),
        Path(o["merged"]),
        Path(o["gguf"]) if o["gguf"] else None,
        Path(o["curve"]),
        int(o["steps"]),
        state.prior_wall_s(),
        len(state.data["segments"]),
    )


def _setup(config: FinetuneConfig) -> None:
    """Threads and offline mode for everything that follows."""
    import os

    import huggingface_hub.constants
    import torch

    # nothing is ever fetched (bases are local files); huggingface_hub reads the variable once, at import
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if os.environ["HF_HUB_OFFLINE"] == "1":
        huggingface_hub.constants.HF_HUB_OFFLINE = True
    if config.threads:
        torch.set_num_threads(config.threads)


def sft(
    records: Sequence[Record],
    config: FinetuneConfig,
    out_dir: str | Path,
    base: str | Path | None = None,
    progress: bool = True,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Supervised fine-tuning of a LoRA adapter on the records' answers (``base``: default ``config.model``);
    resumes from ``out_dir``; ``callbacks`` are extra transformers TrainerCallbacks."""
    records = check_records(records)
    base_model = resolve_base(base or config.model)
    state = RunState(Path(out_dir), _identity("sft", config, records, base_model))
    if state.done:
        return _finished(state)
    _setup(config)
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    tokenizer = load_tokenizer(base_model)
    rows = [
        {
            "prompt": prompt_messages(r, config.system_prompt, config.input_heading),
            "completion": [{"role": "assistant", "content": answer_text(r, f"records[{i}]")}],
        }
        for i, r in enumerate(records)
    ]
    s = config.sft
    args = SFTConfig(
        **_common_args(config, state.out_dir, progress, "sft"),
        max_length=s.max_length,
        completion_only_loss=s.completion_only_loss,
        packing=False,
    )
    trainer = SFTTrainer(
        model=load_model(base_model, config.dtype),
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=_lora(config.lora),
        callbacks=list(callbacks),
    )
    return _train("sft", trainer, state, "loss", base_model, tokenizer, config)


def _reward_function(records: Sequence[Record], reward: Reward) -> Callable[..., list[float | None]]:
    """TRL reward function calling ``reward(record, completion_text)`` for each sampled answer."""

    def user_reward(
        prompts: list[Any], completions: list[Any], record_index: list[int], **_: Any
    ) -> list[float | None]:
        out: list[float | None] = []
        for i, completion in zip(record_index, completions):
            text = completion[-1]["content"] if isinstance(completion, list) else str(completion)
            value = float(reward(records[i], text))
            if not math.isfinite(value):
                raise InputError("reward", f"returned {value} for record {i} and answer {text!r}")
            out.append(value)
        return out

    return user_reward


def grpo(
    records: Sequence[Record],
    reward: Reward,
    config: FinetuneConfig,
    out_dir: str | Path,
    base: str | Path | None = None,
    progress: bool = True,
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """GRPO of a new LoRA adapter on top of ``base`` (a finished SFT run folder, as the authors do; default:
    ``config.model``), rewarded by ``reward(record, completion_text)``; resumes from ``out_dir``."""
    records = check_records(records, need_output=False)
    if not callable(reward):
        raise InputError("reward", "expected a callable reward(record, completion_text) -> float")
    base_model = resolve_base(base or config.model)
    state = RunState(Path(out_dir), _identity("grpo", config, records, base_model))
    if state.done:
        return _finished(state)
    _setup(config)
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    tokenizer = load_tokenizer(base_model)
    g = config.grpo
    rows = []
    for i, r in enumerate(records):
        prompt = prompt_messages(r, config.system_prompt, config.input_heading)
        n_tokens = len(
            tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True, return_dict=True)[
                "input_ids"
            ]
        )
        if n_tokens <= g.max_prompt_length:  # the authors drop over-long prompts rather than cut them
            rows.append({"prompt": prompt, "record_index": i})
    if not rows:
        raise InputError("grpo.max_prompt_length", f"every prompt is longer than {g.max_prompt_length} tokens")
    state.data["prompts_kept"] = len(rows)
    args = GRPOConfig(
        **_common_args(config, state.out_dir, progress, "grpo"),
        beta=g.beta,
        num_generations=g.num_generations,
        generation_batch_size=g.generation_batch_size,
        temperature=g.temperature,
        top_p=g.top_p,
        top_k=0,
        max_completion_length=g.max_completion_length,
        remove_unused_columns=False,
    )
    trainer = GRPOTrainer(
        model=load_model(base_model, config.dtype),
        reward_funcs=[_reward_function(records, reward)],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=_lora(config.lora),
        callbacks=list(callbacks),
    )
    return _train("grpo", trainer, state, "reward", base_model, tokenizer, config)


def clear_run(out_dir: str | Path) -> None:
    """Delete a run folder (start again from scratch)."""
    shutil.rmtree(out_dir, ignore_errors=True)
