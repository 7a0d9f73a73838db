"""``offloadlab train mec-queues --method sft|grpo|comllm``: the COMLLM pipeline on simulator data.

Data: ``dataset.build_records`` on fresh instances (seeds from ``data.seed``, by default 1000 on: the
evaluation specs use seeds 0-4, so no test state is a training state), labelled by ``comllm-oracle`` (the
authors' label source) or ``greedy-oracle``; ``data.records`` of them drawn at random (seeded) from whole
episodes, so that loaded queues late in an episode are represented. Always at ``data.servers`` = 6: the
11-server runs of the LLM solvers are zero-shot with the 6-server model.

Profiles: ``cpu`` is ``compact_training`` (compact states, one-token id answers, the trunk computed once:
minutes on 2 cores). ``paper`` keeps the authors' long state text and answer with TRL and their settings (for a
GPU); ``cpu-long`` is the same long-format TRL pipeline with the finetune ``cpu`` settings (about 100 s and
11 GB per optimiser step on 2 cores: a check that the long path runs, not a way to train a policy).

Stages of the ``paper`` and ``cpu-long`` profiles, each a run folder under ``out`` (``sft/``, ``grpo/``,
``comllm/``) of the generic pipeline (``llm.finetune``): ``sft`` on the oracle answers; ``grpo`` (reward
variant "grpo") and ``comllm`` (variant "comllm": LACS added to the cost) each a new LoRA on top of the merged
SFT model, as the authors do. A missing SFT stage is trained first; a finished stage is reused; an interrupted
one continues from its last checkpoint with ``resume`` (without it, it is refused, so a run is never
continued by accident).
The chat is the one the solvers ask (``dataset.chat_messages``): the scenario's system prompt and input marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.trainers import TrainingProfile, default_train_dir, register_profiles, register_trainer
from offloadlab.llm.finetune.config import FinetuneConfig, make_config
from offloadlab.methods.mec_queues import train_profiles
from offloadlab.rl.common import read_json_checkpoint
from offloadlab.scenarios.mec_queues import comllm
from offloadlab.scenarios.mec_queues.dataset import Behaviour, Label, build_records
from offloadlab.scenarios.mec_queues.params import SCENARIO_ID
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.text import INPUT_MARKER, SYSTEM_PROMPT, parse_input

METHODS = ("sft", "grpo", "comllm")
META_FILE = "mec_queues.json"  # written next to a finished stage's run.json: what the solvers report
RUN_STATE = "the JSON state of an offloadlab fine-tuning run (run.json)"
STAGE_SUMMARY = f"the JSON summary of a finished mec-queues training stage ({META_FILE})"
# records per profile when the config does not say: ours for the CPU; the authors' dataset size is not in
# their scripts, so the paper profile's is our choice too
PROFILE_RECORDS = {"cpu-long": 64, "paper": 2000}
PROFILES = ("cpu", *PROFILE_RECORDS)
# The state text is long (SmolLM2's tokenizer: 1,138 prompt tokens at 6 servers, 1,661 at 11): the cpu
# profile's 1,024-token limits would cut every SFT answer off and drop every GRPO prompt. SFT sequences up to
# 2,048 tokens (the authors' max_seq_length) and GRPO prompts up to the authors' 1,948 in every profile.
FIT_PROMPTS = {"sft": {"max_length": 2048}, "grpo": {"max_prompt_length": 1948}}


class DataSettings(StrictModel):
    """Where the training states and their labels come from."""

    label: Label = Field("comllm-oracle", description="label source: comllm-oracle (authors) or greedy-oracle")
    behaviour: Behaviour = Field(
        "label",
        description="who plays the episodes the states come from: the label source itself, or uniformly random actions",
    )
    records: int | None = Field(None, ge=1, le=1_000_000, description="records drawn (default: per profile)")
    preset: Literal["comllm", "tang-wong"] = Field("comllm", description="instance preset")
    servers: int = Field(6, ge=1, le=64, description="servers of the training instances (the zero-shot source)")
    devices: int | None = Field(None, ge=1, le=10_000, description="devices (default: the preset's)")
    slots: int | None = Field(None, ge=1, le=100_000, description="arrival slots (default: the preset's)")
    seed: int = Field(1000, ge=0, le=2**31 - 1, description="first instance seed; also draws the records")


class MecTrainConfig(StrictModel):
    """The ``--config`` JSON object of ``offloadlab train mec-queues``."""

    data: DataSettings = Field(
        default_factory=lambda: DataSettings.model_validate({}), description="training states and labels"
    )
    lacs_weight: float = Field(comllm.LACS_WEIGHT, ge=0.0, le=100.0, description="LACS weight (comllm stage)")
    reward_seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of LACS's sampled future tasks")
    finetune: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the fine-tuning profile (llm.finetune.config fields)"
    )


def parse_train_config(config: Mapping[str, Any] | None) -> MecTrainConfig:
    """The config object, or InputError naming the bad field (``config.data.records: ...``)."""
    if config is not None and not isinstance(config, Mapping):
        raise InputError("config", "expected a JSON object")
    return parse_model(MecTrainConfig, dict(config or {}), "config")


def finetune_config(method: str, profile: str, cfg: MecTrainConfig) -> FinetuneConfig:
    """The pipeline's config: the profile (``paper-comllm``'s groups of 4 for the comllm stage of ``paper``),
    the scenario's chat framing, then the user's overrides."""
    name = "paper-comllm" if profile == "paper" and method == "comllm" else {"cpu-long": "cpu"}.get(profile, profile)
    over = {"system_prompt": SYSTEM_PROMPT, "input_heading": INPUT_MARKER, **cfg.finetune}
    for group, fit in FIT_PROMPTS.items():  # the user's values win over the fit
        mine = cfg.finetune.get(group, {})
        over[group] = {**fit, **mine} if isinstance(mine, Mapping) else mine
    return make_config(name, over)


def training_records(data: DataSettings, records: int) -> list[dict[str, Any]]:
    """``records`` records drawn without replacement (seeded) from whole episodes of seeds seed, seed + 1, ..."""
    overrides = {
        k: v for k, v in (("servers", data.servers), ("devices", data.devices), ("slots", data.slots)) if v is not None
    }
    rng = np.random.default_rng(data.seed)
    pool: list[dict[str, Any]] = []
    seed = data.seed
    while len(pool) < records:
        inst = PROBLEM.load_instance(PROBLEM.make_instance(seed, data.preset, **overrides))
        pool += build_records(inst, data.label, data.behaviour, rng)
        seed += 1
        if seed - data.seed > 10_000:
            raise InputError("config.data", "the instances have (almost) no tasks; raise arrival or slots")
    keep = np.sort(rng.choice(len(pool), size=records, replace=False))
    return [pool[i] for i in keep]


def record_reward(variant: comllm.Variant, lacs_weight: float, seed: int) -> Any:
    """The authors' reward as the pipeline calls it, ``reward(record, completion_text)``."""
    rng = np.random.default_rng(seed)

    def reward(record: Mapping[str, Any], text: str) -> float:
        return comllm.reward(text, parse_input(record["input"]), variant, rng, lacs_weight)

    return reward


def _stage_done(folder: Path, resume: bool) -> bool:
    """Whether a stage folder holds a finished run; an unfinished one needs ``resume``."""
    run = folder / "run.json"
    if not run.is_file():
        return False
    if read_json_checkpoint(run, RUN_STATE).get("done"):
        return True
    if not resume:
        raise InputError(
            "--resume",
            f"'{folder}' holds an unfinished training run: pass --resume to continue it "
            "from its last checkpoint, or give another --out",
        )
    return False


def _write_meta(
    folder: Path, method: str, profile: str, cfg: MecTrainConfig, records: int, base: Path | None
) -> dict[str, Any]:
    """Summarise a finished stage (and the SFT stage under it) in ``META_FILE``; returns the summary."""
    run = read_json_checkpoint(folder / "run.json", RUN_STATE)
    meta: dict[str, Any] = {
        "method": method,
        "profile": profile,
        "gguf": run["outputs"]["gguf"],
        "adapter": run["outputs"]["adapter"],
        "label": cfg.data.label,
        "behaviour": cfg.data.behaviour,
        "train_records": records,
        "trained_servers": cfg.data.servers,
        "preset": cfg.data.preset,
        "steps": run["outputs"]["steps"],
        "wall_s": round(float(run["wall_s"]), 1),
        "segments": len(run["segments"]),
        "base_model": run["identity"]["config"]["model"],
    }
    if base is not None:
        sft = read_json_checkpoint(base / META_FILE, STAGE_SUMMARY)
        meta.update(sft_steps=sft["steps"], sft_wall_s=sft["wall_s"], lacs_weight=cfg.lacs_weight)
    (folder / META_FILE).write_text(json.dumps(meta, indent=1))
    return meta


def train(
    method: str,
    out: Path,
    profile: str = "cpu",
    config: Mapping[str, Any] | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``method`` (sft, grpo or comllm; the latter two on top of ``out/sft``, trained first if missing)
    into ``out/<method>``; returns the stage's summary (also in ``out/<method>/mec_queues.json``)."""
    from offloadlab.llm.finetune.train import grpo, sft

    if method not in METHODS:
        raise InputError("method", f"must be one of {', '.join(METHODS)} (got {method!r})")
    if profile not in PROFILES:
        raise InputError("profile", f"must be one of {', '.join(PROFILES)} (got {profile!r})")
    if profile == "cpu":
        from offloadlab.methods.mec_queues.compact_training import ADAPTER_FILE, train_compact

        return {**train_compact(method, out, config, resume), **where_solvers_find(out / method / ADAPTER_FILE)}
    cfg = parse_train_config(config)
    finetune_config(method, profile, cfg)  # a bad override fails here, before any data or model is built
    n = cfg.data.records or PROFILE_RECORDS[profile]
    records = training_records(cfg.data, n)
    sft_dir = out / "sft"
    if not _stage_done(sft_dir, resume) or not (sft_dir / META_FILE).is_file():
        sft(records, finetune_config("sft", profile, cfg), sft_dir, progress=progress)
        _write_meta(sft_dir, "sft", profile, cfg, n, None)
    if method == "sft":
        return read_json_checkpoint(sft_dir / META_FILE, STAGE_SUMMARY)
    folder = out / method
    if not _stage_done(folder, resume) or not (folder / META_FILE).is_file():
        reward = record_reward("grpo" if method == "grpo" else "comllm", cfg.lacs_weight, cfg.reward_seed)
        grpo(records, reward, finetune_config(method, profile, cfg), folder, base=sft_dir, progress=progress)
        _write_meta(folder, method, profile, cfg, n, sft_dir)
    return read_json_checkpoint(folder / META_FILE, STAGE_SUMMARY)


def where_solvers_find(adapter: Path) -> dict[str, Any]:
    """The summary's lines on the trained adapter: its path, and whether the solvers load it with no option
    (it lies under the default train dir) or need ``--adapter PATH``."""
    default = default_train_dir(SCENARIO_ID).resolve() / adapter.parent.name / adapter.name
    found = adapter.resolve() == default
    return {"adapter_file": str(adapter), "solver_option": "" if found else f"--adapter {adapter}"}


def _trainer(method: str) -> Any:
    """The registry's trainer of one method."""

    def fn(out: Path, profile: str, config: Mapping[str, Any] | None, resume: bool, progress: bool) -> dict[str, Any]:
        return train(method, out, profile, config, resume, progress)

    fn.__doc__ = {
        "sft": "SFT (LoRA) on oracle-labelled text states",
        "grpo": "GRPO with the authors' reward on top of the SFT model",
        "comllm": "COMLLM: GRPO with the LACS reward on top of the SFT model",
    }[method]
    return fn


for _method in METHODS:
    register_trainer(SCENARIO_ID, _method, _trainer(_method))


def _compact_config() -> type[BaseModel]:
    from offloadlab.methods.mec_queues.compact_training import CompactConfig

    return CompactConfig


register_profiles(
    SCENARIO_ID,
    {
        "cpu": TrainingProfile(
            "compact state text, one-token server id, the frozen trunk computed once, LoRA on the top layers; "
            "SFT then GRPO/COMLLM (for 2 CPU cores)",
            _compact_config,
            train_profiles.measured_cpu,
        ),
        "cpu-long": TrainingProfile(
            "the authors' long state text and answer with TRL and the finetune cpu settings (checks that the "
            "long path runs; too slow to train a policy on a CPU)",
            lambda: MecTrainConfig,
            train_profiles.measured_cpu_long,
        ),
        "paper": TrainingProfile(
            "the authors' long state text and answer with TRL and their settings (for a GPU)",
            lambda: MecTrainConfig,
            train_profiles.measured_paper,
        ),
    },
)
