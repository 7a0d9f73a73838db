"""A PEFT LoRA adapter as a GGUF adapter file that llama.cpp loads beside its base model (``lora_path``).

Layout as llama.cpp's own convert_lora_to_gguf.py writes it: ``general.type = adapter``, ``adapter.type =
lora``, ``adapter.lora.alpha``, and per adapted weight ``<gguf name>.lora_a`` [r, in] and ``.lora_b`` [out, r]
in float32 (llama.cpp reads the rank from the shapes; scale = alpha / r, as PEFT). The q/k rows of llama-type
models are permuted into llama.cpp's rotary layout, which touches only ``lora_b`` (its rows are the outputs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.llm.finetune.export import _PERMUTED, _field, _permute, finish_file

_PEFT_NAME = re.compile(r"^(?:base_model\.model\.)?(.+)\.lora_([AB])\.weight$")


def adapter_tensors(lora_state: dict[str, Any], reader: Any) -> dict[str, np.ndarray]:
    """PEFT LoRA weights (``get_peft_model_state_dict``) as float32 arrays under GGUF adapter names."""
    import gguf

    arch = str(_field(reader, "general.architecture"))
    arch_id = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    names = gguf.get_tensor_name_map(arch_id, int(_field(reader, f"{arch}.block_count")))
    n_head = int(_field(reader, f"{arch}.attention.head_count"))
    kv_key = f"{arch}.attention.head_count_kv"
    n_kv = int(reader.fields[kv_key].contents()) if kv_key in reader.fields else n_head
    out: dict[str, np.ndarray] = {}
    for key, tensor in lora_state.items():
        m = _PEFT_NAME.match(key)
        if m is None:
            raise InputError("adapter", f"'{key}' is not a LoRA A/B weight")
        name = names.get_name(f"{m.group(1)}.weight", try_suffixes=(".weight",))
        if name is None:
            raise InputError("adapter", f"no GGUF name for the weight '{m.group(1)}'")
        data = tensor.detach().to("cpu").float().numpy()
        if m.group(2) == "B" and arch in _PERMUTED and name.endswith(("attn_q.weight", "attn_k.weight")):
            data = _permute(data, n_head if "attn_q" in name else n_kv)
        out[f"{name}.lora_{m.group(2).lower()}"] = np.ascontiguousarray(data, dtype=np.float32)
    return out


def write_lora_gguf(lora_state: dict[str, Any], alpha: float, base_gguf: Path, out_path: Path, name: str) -> Path:
    """Write the adapter for the model of ``base_gguf`` (its architecture and layer names) to ``out_path``."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    tensors = adapter_tensors(lora_state, reader)
    arch = str(_field(reader, "general.architecture"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    writer.add_name(name)
    for tname in sorted(tensors):
        writer.add_tensor(tname, tensors[tname])
    return finish_file(writer, tmp, out_path)
