"""SFT and GRPO of one-token answers over a cached trunk (``trunk.TrunkModel``); resumable, with curves.

A data set is a list of ``AnswerGroup``: prompts packed around their shared prefix (``trunk.Packed``) with
the cached trunk output, the token ids the answer may be (the grammar's choices) and, for SFT, the index of
the right one per prompt. The loss and the policy read only the logits of the answer positions, restricted
to the choices (what the grammar lets the deployed model say). A batch is whole groups.

SFT stops by a rule on the validation curve: after ``patience`` epochs in a row that do not raise the best
validation accuracy by ``min_delta``, or at ``max_epochs``; the best epoch's adapter is kept. GRPO: per step
``prompts`` items, each a group of ``group`` answers sampled from one forward pass; advantages are the
rewards standardised within the group; the loss is the policy gradient plus ``beta`` x KL(policy || the
starting policy), the latter exact over the choices. Every epoch (SFT) or ``save_every`` steps (GRPO) the
adapter, optimiser and curve go to ``out/checkpoint.pt``: a rerun continues from there.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from offloadlab.core.config import StrictModel
from offloadlab.llm.finetune.run_state import write_json
from offloadlab.llm.finetune.trunk import Packed, TrunkModel

# reward(prompt index, choice index) -> float; prompts are numbered across the groups in order
NOT_ALLOWED = -1e4  # logit of a choice the grammar rules out (finite: no NaN in the KL term)
ChoiceReward = Callable[[int, int], float]


@dataclass
class AnswerGroup:
    """Prompts sharing a prefix: the packed tokens, their cached trunk output, the answer tokens, the
    right one's index per prompt (SFT) and which of the answers the group allows (its grammar)."""

    hidden: Any
    pack: Packed
    choices: list[int]
    targets: list[int] | None = None
    valid: list[bool] | None = None  # which choices these prompts allow (None: all)

    def __len__(self) -> int:
        return len(self.pack.suffixes)


class SFTSchedule(StrictModel):
    """Supervised training of the answer token."""

    learning_rate: float = Field(3e-3, gt=0, le=1, description="peak AdamW rate (1e-3 for 2 epochs stalled here)")
    decay: Literal["cosine", "constant"] = Field(
        "cosine", description="rate over the max_epochs: cosine to zero (settles the answer), or constant"
    )
    batch_size: int = Field(32, ge=1, le=4096, description="prompts per optimiser step (whole slots)")
    balance: bool = Field(
        True, description="weight each answer by 1/sqrt(its share of the training targets) (rare ids count more)"
    )
    max_epochs: int = Field(16, ge=1, le=1000, description="hard cap on epochs (the cosine decay spans them)")
    patience: int = Field(5, ge=1, le=100, description="epochs without a gain of min_delta before stopping")
    min_delta: float = Field(0.005, ge=0, le=1, description="validation-accuracy gain that counts as progress")


class GRPOSchedule(StrictModel):
    """GRPO of the answer token: groups of samples of one forward pass."""

    learning_rate: float = Field(5e-4, gt=0, le=1, description="AdamW rate")
    steps: int = Field(300, ge=1, le=1_000_000, description="optimiser steps")
    prompts: int = Field(16, ge=1, le=4096, description="prompts per step")
    group: int = Field(8, ge=2, le=1024, description="answers sampled per prompt (the group)")
    temperature: float = Field(1.0, gt=0, le=10, description="sampling temperature of the group")
    beta: float = Field(0.04, ge=0, le=100, description="weight of KL(policy || starting policy)")
    save_every: int = Field(25, ge=1, le=1_000_000, description="steps between checkpoints")


def _choice_logits(model: TrunkModel, groups: Sequence[AnswerGroup]) -> Any:
    """[prompts, choices] logits of the groups' prompts, in order (every group has the same choices); a
    choice a group does not allow gets a logit far below the rest, as the grammar would."""
    import torch

    logits = model.logits([g.hidden for g in groups], [g.pack for g in groups])[:, groups[0].choices]
    allowed = torch.tensor([g.valid or [True] * len(g.choices) for g in groups for _ in range(len(g))])
    return logits.masked_fill(~allowed, NOT_ALLOWED)


def _targets(groups: Sequence[AnswerGroup]) -> list[int]:
    return [t for g in groups for t in (g.targets or [])]


def predict(model: TrunkModel, groups: Sequence[AnswerGroup], batch_groups: int = 4) -> Any:
    """[prompts, choices] probabilities of the current policy (no gradient)."""
    import torch

    with torch.no_grad():
        parts = [
            torch.softmax(_choice_logits(model, groups[k : k + batch_groups]), -1)
            for k in range(0, len(groups), batch_groups)
        ]
    return torch.cat(parts)


def accuracy(model: TrunkModel, groups: Sequence[AnswerGroup]) -> tuple[float, dict[int, list[int]]]:
    """Share of prompts whose most likely choice is the target, and per target index [right, total]."""
    per: dict[int, list[int]] = {}
    best = predict(model, groups).argmax(-1).tolist()
    for target, guess in zip(_targets(groups), best):
        hit = per.setdefault(target, [0, 0])
        hit[0] += int(guess == target)
        hit[1] += 1
    right = sum(h[0] for h in per.values())
    return right / max(len(best), 1), per


def _load(path: Path, model: TrunkModel, optim: Any) -> dict[str, Any] | None:
    """Restore a checkpoint into ``model`` and ``optim``; its progress record, or None."""
    import torch

    if not path.is_file():
        return None
    ck = torch.load(path, weights_only=False)
    model.load_lora_state(ck["lora"])
    optim.load_state_dict(ck["optim"])
    return dict(ck["progress"])


def _save(path: Path, model: TrunkModel, optim: Any, progress: dict[str, Any]) -> None:
    """Write a checkpoint atomically."""
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save({"lora": model.lora_state(), "optim": optim.state_dict(), "progress": progress}, tmp)
    tmp.replace(path)


def _batches(groups: Sequence[AnswerGroup], order: Sequence[int] | np.ndarray, size: int) -> list[list[AnswerGroup]]:
    """Whole groups in ``order``, cut into batches of at least ``size`` prompts (the last may be smaller)."""
    out: list[list[AnswerGroup]] = [[]]
    for i in order:
        if sum(map(len, out[-1])) >= size:
            out.append([])
        out[-1].append(groups[i])
    return [b for b in out if b]


def sft(
    model: TrunkModel, train: Sequence[AnswerGroup], val: Sequence[AnswerGroup], schedule: SFTSchedule, out: Path
) -> dict[str, Any]:
    """Train the LoRA to give each item's target; returns the curve and the best epoch (its LoRA is loaded)."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    optim = torch.optim.AdamW(model.lora_parameters(), lr=schedule.learning_rate, weight_decay=0.0)
    progress = _load(out / "checkpoint.pt", model, optim) or {
        "epoch": 0, "steps": 0, "curve": [], "best": -1.0, "wall_s": 0.0
    }  # fmt: skip
    best_state = torch.load(out / "best.pt", weights_only=False) if (out / "best.pt").is_file() else None
    started = time.perf_counter() - progress["wall_s"]
    while not _converged(progress["curve"], schedule) and progress["epoch"] < schedule.max_epochs:
        rng = np.random.default_rng(progress["epoch"])
        order = rng.permutation(len(train))
        losses = []
        batches = _batches(train, order, schedule.batch_size)
        counts = np.bincount(_targets(train), minlength=len(train[0].choices)).astype(float)
        weight = torch.tensor(1 / np.sqrt(np.maximum(counts, 1) / counts.sum()), dtype=torch.float32)
        for batch in batches:
            _set_rate(optim, schedule, progress["steps"], len(batches) * schedule.max_epochs)
            loss = torch.nn.functional.cross_entropy(
                _choice_logits(model, batch),
                torch.tensor(_targets(batch)),
                weight=weight / weight.mean() if schedule.balance else None,
            )
            optim.zero_grad()
            loss.backward()
            optim.step()
            progress["steps"] += 1
            losses.append(float(loss.detach()))
        acc, per = accuracy(model, val)
        progress["epoch"] += 1
        progress["wall_s"] = time.perf_counter() - started
        progress["curve"].append(
            {"epoch": progress["epoch"], "train_loss": float(np.mean(losses)), "val_accuracy": acc,
             "val_per_target": {str(k): v for k, v in sorted(per.items())}, "elapsed_s": progress["wall_s"]}
        )  # fmt: skip
        print(f"sft epoch {progress['epoch']}: loss {np.mean(losses):.4f}, val acc {acc:.4f}", file=sys.stderr)
        if acc > progress["best"]:
            progress["best"] = acc
            best_state = {"lora": model.lora_state(), "epoch": progress["epoch"]}
            torch.save(best_state, out / "best.pt")
        _save(out / "checkpoint.pt", model, optim, progress)
        write_json(out / "curve.json", progress["curve"])
    if best_state is not None:
        model.load_lora_state(best_state["lora"])
    return {**progress, "best_epoch": best_state["epoch"] if best_state else 0}


def _set_rate(optim: Any, schedule: SFTSchedule, step: int, total: int) -> None:
    """The learning rate of ``step`` of ``total`` (computed from the step, so a resumed run continues it)."""
    scale = 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0))) if schedule.decay == "cosine" else 1.0
    for group in optim.param_groups:
        group["lr"] = schedule.learning_rate * scale


def _converged(curve: Sequence[dict[str, Any]], schedule: SFTSchedule) -> bool:
    """The stopping rule: the last ``patience`` epochs raised the best accuracy by less than ``min_delta``."""
    if len(curve) <= schedule.patience:
        return False
    acc = [c["val_accuracy"] for c in curve]
    return max(acc[-schedule.patience :]) < max(acc[: -schedule.patience]) + schedule.min_delta


def grpo(
    model: TrunkModel,
    groups: Sequence[AnswerGroup],
    reward: ChoiceReward,
    schedule: GRPOSchedule,
    out: Path,
    seed: int = 0,
    val: Sequence[AnswerGroup] = (),
) -> dict[str, Any]:
    """Policy optimisation of the LoRA (starting from its current weights) on ``reward``; returns the curve."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    reference = predict(model, groups)  # the starting policy, for the KL term: one pass over the prompts
    first = np.cumsum([0, *map(len, groups)])  # prompt number of each group's first prompt
    optim = torch.optim.AdamW(model.lora_parameters(), lr=schedule.learning_rate, weight_decay=0.0)
    progress = _load(out / "checkpoint.pt", model, optim) or {"step": 0, "curve": [], "wall_s": 0.0}
    started = time.perf_counter() - progress["wall_s"]
    while progress["step"] < schedule.steps:
        rng = np.random.default_rng([seed, progress["step"]])
        order = rng.permutation(len(groups))
        batch = _batches(groups, order, schedule.prompts)[0]
        picked = [g for g in order[: len(batch)]]
        prompt_ids = [int(first[g]) + j for g in picked for j in range(len(groups[g]))]
        logits = _choice_logits(model, batch)
        terms, rewards, kls = [], [], []
        for i, x in zip(prompt_ids, logits):
            logp = torch.log_softmax(x / schedule.temperature, -1)
            probs = logp.detach().exp().numpy().astype(float)
            draws = rng.choice(len(probs), size=schedule.group, p=probs / probs.sum())
            r = np.array([reward(int(i), int(a)) for a in draws])
            adv = (r - r.mean()) / (r.std() + 1e-6) if r.std() > 1e-9 else np.zeros_like(r)
            terms.append(-(torch.tensor(adv, dtype=logp.dtype) * logp[torch.tensor(draws)]).mean())
            p_now = torch.softmax(x, -1)
            kls.append((p_now * (torch.log(p_now + 1e-9) - torch.log(reference[i] + 1e-9))).sum())
            rewards.append(r.mean())
        kl = torch.stack(kls).mean()
        loss = torch.stack(terms).mean() + schedule.beta * kl
        optim.zero_grad()
        loss.backward()
        optim.step()
        progress["step"] += 1
        progress["wall_s"] = time.perf_counter() - started
        point = {"step": progress["step"], "reward": float(np.mean(rewards)), "kl": float(kl.detach())}
        progress["curve"].append({**point, "elapsed_s": progress["wall_s"]})
        if progress["step"] % schedule.save_every == 0 or progress["step"] == schedule.steps:
            if val:
                progress["curve"][-1]["val_accuracy"] = accuracy(model, val)[0]
            _save(out / "checkpoint.pt", model, optim, progress)
            write_json(out / "curve.json", progress["curve"])
            print(f"grpo step {progress['step']}: {json.dumps(progress['curve'][-1])}", file=sys.stderr)
    return progress
