"""A causal LM split for one-token answers: a frozen trunk whose output is computed once, and trainable top layers.

The prompts' tokens go through the bottom layers once (``TrunkModel.trunk``: no gradient, stored in bfloat16);
every later pass — each epoch of SFT, each GRPO step, each validation — runs only the top ``top_layers``
decoder layers (with LoRA on their projections), the final norm and the output head at the last position of
each prompt, which is where the one-token answer is read. Prompts that share a prefix (the tasks of one slot
share the whole server table) are packed into one sequence (``Packed``) whose attention mask and positions
make each prompt read exactly as alone, so the shared tokens are computed once.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.llm.finetune.config import ALL_PROJECTIONS
from offloadlab.llm.finetune.model import BaseModel, load_model, load_tokenizer, resolve_base

Messages = Sequence[dict[str, str]]
K = TypeVar("K")  # the split names of a training data set


def set_threads(threads: int | None) -> int:
    """Torch CPU threads: ``threads``, or every core (the choice for an idle machine); returns the count."""
    import torch

    n = threads or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


@dataclass(frozen=True)
class Packed:
    """Prompts that share a prefix, packed into one sequence: the prefix once, then each prompt's own tokens.

    Each suffix attends to the prefix and to itself (never to another suffix) and its positions continue the
    prefix's, so every prompt is read exactly as alone; ``answer_at`` = the last position of each prompt.
    """

    tokens: tuple[int, ...]
    prefix: int
    suffixes: tuple[int, ...]  # lengths

    @property
    def length(self) -> int:
        """Tokens in the packed sequence."""
        return len(self.tokens)

    @property
    def answer_at(self) -> list[int]:
        """Index of each prompt's last token (where its answer is read)."""
        ends = np.cumsum([self.prefix, *self.suffixes])[1:]
        return [int(e) - 1 for e in ends]

    def mask(self) -> Any:
        """[L, L] bool: which positions each position may attend to."""
        import torch

        n = self.length
        allowed = torch.ones(n, n, dtype=torch.bool).tril()
        start = self.prefix
        for size in self.suffixes:
            allowed[start + size :, start : start + size] = False  # later suffixes do not see this one
            start += size
        return allowed

    def positions(self) -> Any:
        """Position ids: each suffix continues from the end of the prefix."""
        import torch

        parts = [torch.arange(self.prefix)] + [torch.arange(self.prefix, self.prefix + s) for s in self.suffixes]
        return torch.cat(parts)


def pack(prompts: Sequence[Sequence[int]]) -> Packed:
    """Pack token lists into one ``Packed`` sequence around their longest common prefix (each keeps a token
    of its own, so every prompt has an answer position of its own)."""
    first = prompts[0]
    n = min(len(p) for p in prompts) - 1
    common = next((i for i in range(n) if any(p[i] != first[i] for p in prompts)), n)
    tokens = list(first[:common])
    for p in prompts:
        tokens += p[common:]
    return Packed(tuple(tokens), common, tuple(len(p) - common for p in prompts))


class TrunkModel:
    """The base model (loaded once) with LoRA on the projections of its top ``top_layers`` layers."""

    def __init__(self, model: str, top_layers: int, lora_r: int, lora_alpha: int, threads: int | None = None):
        import torch
        from peft import LoraConfig, get_peft_model

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.threads = set_threads(threads)
        self.base: BaseModel = resolve_base(model)
        self.tokenizer = load_tokenizer(self.base)
        lm = load_model(self.base, "float32")
        n_layers = len(lm.model.layers)
        if not 1 <= top_layers <= n_layers:
            raise InputError("top_layers", f"must be in 1..{n_layers} for this model (got {top_layers})")
        self.split = n_layers - top_layers
        lora = LoraConfig(
            r=lora_r,
            lora_alpha=lora_alpha,
            lora_dropout=0.0,
            bias="none",
            target_modules=list(ALL_PROJECTIONS),
            layers_to_transform=list(range(self.split, n_layers)),
        )
        for p in lm.parameters():
            p.requires_grad_(False)
        self.peft = get_peft_model(lm, lora)
        self.lm = lm
        self.layers = lm.model.layers
        self.dtype = torch.float32

    def lora_parameters(self) -> list[Any]:
        """The trainable LoRA tensors."""
        return [p for p in self.peft.parameters() if p.requires_grad]

    def lora_state(self) -> dict[str, Any]:
        """The LoRA weights by PEFT name (copies, on CPU)."""
        from peft import get_peft_model_state_dict

        return {k: v.detach().clone() for k, v in get_peft_model_state_dict(self.peft).items()}

    def load_lora_state(self, state: dict[str, Any]) -> None:
        """Set the LoRA weights from ``lora_state``'s output."""
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(self.peft, state)

    def encode(self, messages: Messages) -> list[int]:
        """Token ids of a chat prompt ending where the assistant's answer starts."""
        out = self.tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=True, return_dict=True
        )
        return list(out["input_ids"])

    def answer_token(self, text: str) -> int:
        """The id of the single token ``text`` is written as; InputError when it takes several."""
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        if len(ids) != 1:
            raise InputError("answer", f"{text!r} is {len(ids)} tokens for this tokenizer, not one")
        return int(ids[0])

    def _batch(self, groups: Sequence[Any], packs: Sequence[Packed]) -> tuple[Any, Any, Any]:
        """Right-padded batch [B, L, H] of packed hidden sequences, its additive attention mask and positions."""
        import torch

        length = max(p.length for p in packs)
        h = torch.zeros(len(groups), length, int(groups[0].shape[-1]), dtype=self.dtype)
        allowed = torch.zeros(len(groups), length, length, dtype=torch.bool)
        pos = torch.zeros(len(groups), length, dtype=torch.long)
        for i, (g, p) in enumerate(zip(groups, packs)):
            h[i, : p.length] = g.to(self.dtype)
            allowed[i, : p.length, : p.length] = p.mask()
            pos[i, : p.length] = p.positions()
        allowed |= torch.eye(length, dtype=torch.bool)[None]  # pad rows attend to themselves: no NaN
        mask = torch.zeros(allowed.shape, dtype=self.dtype).masked_fill(~allowed, torch.finfo(self.dtype).min)
        return h, mask[:, None], pos

    def _run(self, h: Any, mask: Any, pos: Any, layers: Sequence[Any]) -> Any:
        """Hidden states after ``layers``."""
        cos_sin = self.lm.model.rotary_emb(h, pos)
        for layer in layers:
            out = layer(h, attention_mask=mask, position_ids=pos, position_embeddings=cos_sin)
            h = out[0] if isinstance(out, tuple) else out
        return h

    def trunk(self, packs: Sequence[Packed], batch_size: int = 4, label: str = "trunk") -> list[Any]:
        """The bottom layers' output of each packed group, [length, H] in bfloat16 (computed once, no gradient)."""
        import torch

        embed = self.lm.model.embed_tokens
        out: list[Any] = []
        started, tokens = time.perf_counter(), 0
        with torch.no_grad():
            for k in range(0, len(packs), batch_size):
                chunk = packs[k : k + batch_size]
                h, mask, pos = self._batch([embed(torch.tensor(p.tokens)) for p in chunk], chunk)
                h = self._run(h, mask, pos, self.layers[: self.split])
                out += [h[j, : p.length].to(torch.bfloat16).clone() for j, p in enumerate(chunk)]
                tokens += sum(p.length for p in chunk)
                rate = tokens / (time.perf_counter() - started)
                print(f"{label}: {k + len(chunk)}/{len(packs)} groups, {rate:.0f} tokens/s", file=sys.stderr)
        return out

    def logits(self, hidden: Sequence[Any], packs: Sequence[Packed]) -> Any:
        """[answers, V] next-token logits at every answer position of the groups, through the LoRA top layers."""
        import torch

        h, mask, pos = self._batch(hidden, packs)
        h = self._run(h, mask, pos, self.layers[self.split :])
        rows = torch.tensor([i for i, p in enumerate(packs) for _ in p.answer_at])
        cols = torch.tensor([a for p in packs for a in p.answer_at])
        return self.lm.lm_head(self.lm.model.norm(h[rows, cols]))


def cached_trunk(model: TrunkModel, name: str, packs: dict[K, list[Packed]], cache: Path) -> dict[K, list[Any]]:
    """The trunk output of every split's packed groups: read from ``cache`` when it holds the output of the
    same base model, split point and prompts, else computed (once) and written there."""
    import torch

    key = {"model": name, "top_layers": len(model.layers) - model.split, "packs": packs}
    cached = torch.load(cache, weights_only=False) if cache.is_file() else None
    if cached is None or cached["key"] != key:
        cached = {"key": key, "hidden": {s: model.trunk(p, label=f"trunk {s}") for s, p in packs.items()}}
        torch.save(cached, cache)
    return dict(cached["hidden"])
