"""Fine-tuning configuration: documented, bounded fields and the named profiles (``paper``, ``cpu``).

Every field says what it controls (CleanRL-style); invalid values raise InputError naming the field.
The ``paper`` profiles are the COMLLM authors' settings (their public SFT/GRPO/COMLLM scripts); the
``cpu`` profile is ours: a small LoRA and a few steps so that the whole pipeline runs on a 2-core CPU
with the shipped SmolLM2-135M-Instruct in minutes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError

Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup"]
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# English rendering of the authors' system prompt (stf_7B.py / grpo_new_7B.py)
SYSTEM_PROMPT = (
    "You are an expert in MEC task offloading. Follow the user's instructions strictly, analyse the "
    "input data and output the offloading decision. Do not include any explanation, code-block "
    "markers or extra text."
)


class TrunkSettings(StrictModel):
    """The base model and the LoRA on its top layers, of a pipeline that computes the frozen trunk once."""

    model: str = Field("smollm2", description="base model (embedded name or .gguf)")
    top_layers: int = Field(3, ge=1, le=64, description="top decoder layers that get LoRA (the rest is frozen)")
    lora_r: int = Field(16, ge=1, le=256, description="LoRA rank")
    lora_alpha: int = Field(32, ge=1, le=4096, description="LoRA alpha (scale alpha / r)")


class LoraSettings(StrictModel):
    """LoRA adapter (PEFT) trained on top of the frozen base model."""

    r: int = Field(64, ge=1, le=1024, description="rank of the low-rank update matrices")
    alpha: int = Field(128, ge=1, le=8192, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: tuple[str, ...] = Field(
        ALL_PROJECTIONS, min_length=1, description="module names that get an adapter (all projections)"
    )


class SFTSettings(StrictModel):
    """Supervised fine-tuning on (prompt, oracle answer) pairs with TRL's SFTTrainer."""

    learning_rate: float = Field(1e-5, gt=0.0, le=1.0, description="peak learning rate of AdamW")
    lr_scheduler: Scheduler = Field("cosine", description="learning-rate schedule after warm-up")
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0, description="fraction of the steps spent warming up")
    epochs: float = Field(1.0, gt=0.0, le=1000.0, description="passes over the data (unless max_steps is set)")
    max_steps: int | None = Field(None, ge=1, le=10_000_000, description="stop after this many optimiser steps")
    batch_size: int = Field(2, ge=1, le=4096, description="records per forward pass")
    grad_accum: int = Field(4, ge=1, le=4096, description="forward passes per optimiser step")
    max_grad_norm: float = Field(0.3, gt=0.0, le=1e6, description="gradient-norm clipping")
    max_length: int = Field(2048, ge=16, le=1_048_576, description="tokens per example (longer ones are truncated)")
    completion_only_loss: bool = Field(
        False,
        description="loss on the answer tokens only (False: on the whole "
        "chat text, as the authors' 'text' dataset does)",
    )
    gradient_checkpointing: bool = Field(
        True,
        description="recompute activations in the backward pass (less memory, ~30% more time; the authors enable it)",
    )
    save_steps: int = Field(50, ge=1, le=10_000_000, description="checkpoint every this many steps (resume point)")
    logging_steps: int = Field(1, ge=1, le=10_000_000, description="log the loss every this many steps")


class GRPOSettings(StrictModel):
    """Group-relative policy optimisation with TRL's GRPOTrainer and a user reward."""

    learning_rate: float = Field(5e-6, gt=0.0, le=1.0, description="peak learning rate of AdamW")
    lr_scheduler: Scheduler = Field("cosine", description="learning-rate schedule")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="fraction of the steps spent warming up")
    epochs: float = Field(1.0, gt=0.0, le=1000.0, description="passes over the prompts (unless max_steps is set)")
    max_steps: int | None = Field(None, ge=1, le=10_000_000, description="stop after this many optimiser steps")
    beta: float = Field(0.005, ge=0.0, le=100.0, description="KL penalty towards the reference (SFT) policy")
    num_generations: int = Field(8, ge=2, le=1024, description="completions sampled per prompt (the group)")
    generation_batch_size: int = Field(8, ge=2, le=65_536, description="completions generated per generation round")
    batch_size: int = Field(1, ge=1, le=65_536, description="completions per forward pass")
    grad_accum: int = Field(4, ge=1, le=4096, description="forward passes per optimiser step")
    max_grad_norm: float = Field(1.0, gt=0.0, le=1e6, description="gradient-norm clipping")
    temperature: float = Field(1.3, gt=0.0, le=10.0, description="sampling temperature of the rollouts")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="nucleus sampling of the rollouts")
    max_completion_length: int = Field(15, ge=1, le=65_536, description="tokens per sampled answer")
    max_prompt_length: int = Field(1948, ge=16, le=1_048_576, description="prompts longer than this are dropped")
    gradient_checkpointing: bool = Field(True, description="recompute activations in the backward pass (TRL's default)")
    save_steps: int = Field(50, ge=1, le=10_000_000, description="checkpoint every this many steps (resume point)")
    logging_steps: int = Field(1, ge=1, le=10_000_000, description="log the reward every this many steps")

    @model_validator(mode="after")
    def _groups_fit(self) -> GRPOSettings:
        """A generation round holds whole groups and whole forward passes (TRL's own requirement)."""
        if self.generation_batch_size % self.num_generations:
            raise ValueError(
                f"generation_batch_size ({self.generation_batch_size}) must be a multiple of "
                f"num_generations ({self.num_generations})"
            )
        if self.generation_batch_size % self.batch_size:
            raise ValueError(
                f"generation_batch_size ({self.generation_batch_size}) must be a multiple of "
                f"batch_size ({self.batch_size})"
            )
        return self


class SamplingSettings(StrictModel):
    """Sampling of the trained policy at evaluation time (the authors' evaluate_model.py)."""

    temperature: float = Field(0.7, ge=0.0, le=10.0, description="sampling temperature (0: greedy)")
    top_p: float = Field(0.9, gt=0.0, le=1.0, description="nucleus sampling")
    max_new_tokens: int = Field(20, ge=1, le=65_536, description="tokens per answer")


class FinetuneConfig(StrictModel):
    """Everything the SFT and GRPO runs and the GGUF export need."""

    profile: str = Field("custom", max_length=64, description="name of the profile these values came from")
    model: str = Field(
        "smollm2",
        min_length=1,
        description="base model: an embedded model name (see "
        "offloadlab.llm.embedded.MODELS), a .gguf file, or a local Hugging Face model folder",
    )
    dtype: Literal["float32", "bfloat16"] = Field("float32", description="torch dtype of the trained weights")
    threads: int | None = Field(None, ge=1, le=1024, description="torch CPU threads (None: torch's default)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of data order, dropout and sampling")
    system_prompt: str = Field(SYSTEM_PROMPT, description="system message of every chat")
    input_heading: str = Field("**Input data**:", min_length=1, description="line between instruction and input")
    export: Literal["none", "f32", "f16", "q8_0"] = Field(
        "q8_0", description="GGUF file written after training (tensor type; 'none': no export)"
    )
    lora: LoraSettings = LoraSettings()
    sft: SFTSettings = SFTSettings()
    grpo: GRPOSettings = GRPOSettings()
    evaluation: SamplingSettings = SamplingSettings()


_CPU: dict[str, Any] = {
    "dtype": "float32",
    "threads": 1,  # measured: 1 thread ran GRPO steps 5x faster than 2 on the shared cores
    "lora": {"r": 8, "alpha": 16, "dropout": 0.05},
    "sft": {
        "learning_rate": 2e-4,
        "max_steps": 30,
        "batch_size": 2,
        "grad_accum": 1,
        "max_length": 1024,
        "completion_only_loss": True,
        "max_grad_norm": 1.0,
        "gradient_checkpointing": False,
        "save_steps": 10,
    },
    "grpo": {
        "learning_rate": 2e-5,
        "max_steps": 8,
        "num_generations": 4,
        "generation_batch_size": 4,
        "batch_size": 4,
        "grad_accum": 1,
        "max_prompt_length": 1024,
        "gradient_checkpointing": False,
        "save_steps": 4,
    },
}
PROFILES: dict[str, dict[str, Any]] = {
    # the authors' stf_7B.py + grpo_new_7B.py (they train Qwen2.5 in 4-bit NF4 with bf16 compute)
    "paper": {"dtype": "bfloat16", "export": "f16"},
    # comllm_train.py: the same, with groups of 4 generations
    "paper-comllm": {"dtype": "bfloat16", "export": "f16", "grpo": {"num_generations": 4, "generation_batch_size": 4}},
    "cpu": _CPU,
}


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, recursively for nested groups."""
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) else value
        )
    return out


def make_config(profile: str = "cpu", overrides: Mapping[str, Any] | None = None) -> FinetuneConfig:
    """The named profile with ``overrides`` (nested like the config) applied; InputError when invalid."""
    if profile not in PROFILES:
        raise InputError("finetune.profile", f"unknown profile '{profile}' (known: {', '.join(PROFILES)})")
    data = _merge({"profile": profile, **PROFILES[profile]}, overrides or {})
    return parse_model(FinetuneConfig, data, "finetune")


def load_config(source: Mapping[str, Any] | str | Path) -> FinetuneConfig:
    """A config from a mapping or a JSON file: ``{"profile": "cpu", ...overrides}``."""
    if isinstance(source, (str, Path)):
        try:
            source = json.loads(Path(source).read_text())
        except (OSError, ValueError) as exc:
            raise InputError("finetune", f"cannot read config '{source}': {exc}") from None
    if not isinstance(source, Mapping):
        raise InputError("finetune", "expected a JSON object")
    data = dict(source)
    profile = data.pop("profile", "cpu")
    if not isinstance(profile, str):
        raise InputError("finetune.profile", f"expected a profile name (got {profile!r})")
    return make_config(profile, data)
