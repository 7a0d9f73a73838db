"""Where a base model comes from (embedded GGUF, .gguf file, HF folder, a finished SFT run) and loading it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError
from offloadlab.llm.embedded import MODELS, resolve_model

ORIGIN_FILE = "offloadlab_origin.json"  # written into a merged model folder: the GGUF it descends from


@dataclass(frozen=True)
class BaseModel:
    """A loadable base: a folder (+ GGUF file name inside it) and the GGUF whose metadata an export reuses."""

    folder: Path
    gguf_file: str | None  # set when the weights are read from a GGUF file with transformers' GGUF support
    origin_gguf: Path | None  # metadata/tokenizer source for the GGUF export (None: no export possible)

    def describe(self) -> dict[str, str | None]:
        """JSON-ready description (stored in run.json)."""
        return {
            "folder": str(self.folder),
            "gguf_file": self.gguf_file,
            "origin_gguf": str(self.origin_gguf) if self.origin_gguf else None,
        }


def resolve_base(spec: str | Path) -> BaseModel:
    """An embedded model name, a .gguf file, a merged model folder or a finished run folder (its merged model)."""
    text = str(spec)
    if text in MODELS or text.endswith(".gguf"):
        path = resolve_model(text)[0].resolve()
        return BaseModel(path.parent, path.name, path)
    folder = Path(text).expanduser()
    if (folder / "merged" / "config.json").is_file():  # a finished SFT/GRPO run of this pipeline
        folder = folder / "merged"
    if not (folder / "config.json").is_file():
        raise InputError(
            "base",
            f"'{text}' is neither an embedded model ({', '.join(MODELS)}), a .gguf file, "
            "a model folder nor a finished training run",
        )
    origin = folder / ORIGIN_FILE
    gguf = Path(json.loads(origin.read_text())["gguf"]) if origin.is_file() else None
    return BaseModel(folder.resolve(), None, gguf)


def load_tokenizer(base: BaseModel) -> Any:
    """The tokenizer (from the GGUF's own vocabulary when the base is a GGUF file); a pad token is ensured."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base.folder), gguf_file=base.gguf_file)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not tok.chat_template:
        raise InputError("base", f"the model in '{base.folder}' has no chat template")
    return tok


def load_model(base: BaseModel, dtype: str) -> Any:
    """The causal LM in ``dtype`` (GGUF tensors are de-quantised by transformers into plain weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        str(base.folder), gguf_file=base.gguf_file, dtype=getattr(torch, dtype)
    )
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        # transformers de-quantised every GGUF tensor into plain weights (no GGUF kernel on CPU) but keeps a
        # GGUF "quantizer" that makes Trainer and save_pretrained refuse the model: drop it
        if not all(p.dtype.is_floating_point for p in model.parameters()):
            raise InputError("base", f"'{base.gguf_file}' loads as packed GGUF blocks, which cannot be trained")
        quantizer.remove_quantization_config(model)
    return model


def save_merged(model: Any, tokenizer: Any, folder: Path, origin_gguf: Path | None) -> Path:
    """Save a merged model + tokenizer as a plain HF folder that remembers its GGUF origin."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    if origin_gguf is not None:
        (folder / ORIGIN_FILE).write_text(json.dumps({"gguf": str(origin_gguf)}))
    return folder
