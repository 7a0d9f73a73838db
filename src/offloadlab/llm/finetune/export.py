"""GGUF export of a (merged) torch causal LM, so the embedded llama.cpp backend runs it without torch.

No converter script is needed: the base model already is a GGUF file, so the export keeps the base's
metadata (architecture, hyper-parameters, tokenizer, chat template) verbatim and its tensor list, and
replaces each tensor's data with the trained weight. Names are mapped with the ``gguf`` package's own
HF -> GGUF table; the q/k projections of llama-type models are permuted back to llama.cpp's rotary layout
(transformers undoes that permutation when it loads a GGUF).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np

from offloadlab.core.errors import InputError

ExportType = Literal["f32", "f16", "q8_0"]
# GGUF architectures whose attn_q/attn_k rows llama.cpp stores permuted (transformers' LlamaTensorProcessor).
_PERMUTED = frozenset({"llama"})
# architectures whose tensors transformers loads unchanged; only "llama" is exercised by the tests.
_UNCHANGED = frozenset({"qwen2", "qwen3", "mistral", "phi3"})


def _permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """HF rotary layout -> llama.cpp's (inverse of transformers' ``_reverse_permute_weights``)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _field(reader: Any, key: str) -> Any:
    """The value of a GGUF metadata key, or an InputError naming it."""
    if key not in reader.fields:
        raise InputError("export", f"base GGUF has no metadata key '{key}'")
    return reader.fields[key].contents()


def gguf_weights(state_dict: dict[str, Any], reader: Any) -> dict[str, np.ndarray]:
    """The model's weights as float32 arrays under GGUF tensor names, in llama.cpp's layout."""
    import gguf

    arch = str(_field(reader, "general.architecture"))
    if arch not in _PERMUTED | _UNCHANGED:
        raise InputError(
            "export", f"GGUF export supports the architectures {sorted(_PERMUTED | _UNCHANGED)}, not '{arch}'"
        )
    arch_id = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    names = gguf.get_tensor_name_map(arch_id, int(_field(reader, f"{arch}.block_count")))
    n_head = int(_field(reader, f"{arch}.attention.head_count"))
    n_kv = int(
        reader.fields[f"{arch}.attention.head_count_kv"].contents()
        if f"{arch}.attention.head_count_kv" in reader.fields
        else n_head
    )
    out: dict[str, np.ndarray] = {}
    for hf_name, tensor in state_dict.items():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise InputError("export", f"no GGUF name for the weight '{hf_name}'")
        data = tensor.detach().to("cpu").float().numpy()
        if arch in _PERMUTED and name.endswith(("attn_q.weight", "attn_k.weight")):
            data = _permute(data, n_head if "attn_q" in name else n_kv)
        out[name] = data
    return out


def _tensor_type(data: np.ndarray, export_type: ExportType) -> Any:
    """GGML type of one tensor: 1-D tensors (norms) stay F32; Q8_0 needs rows that are whole blocks."""
    from gguf import GGMLQuantizationType as Q

    if data.ndim == 1 or export_type == "f32":
        return Q.F32
    if export_type == "q8_0" and data.shape[-1] % 32 == 0:
        return Q.Q8_0
    return Q.F16


def write_gguf(
    state_dict: dict[str, Any],
    base_gguf: Path,
    out_path: Path,
    export_type: ExportType = "q8_0",
    name: str | None = None,
) -> Path:
    """Write ``state_dict`` (HF names) as a GGUF file with ``base_gguf``'s metadata and tensor list."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    weights = gguf_weights(state_dict, reader)
    arch = str(_field(reader, "general.architecture"))
    tmp = out_path.with_name(out_path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in (
            "general.architecture",
            "general.file_type",
            "general.name",
        ):
            continue
        kind = field.types[0]
        writer.add_key_value(
            field.name, field.contents(), kind, sub_type=field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        )
    writer.add_name(name or f"{_field(reader, 'general.name')} (fine-tuned)")
    file_type = {
        "f32": gguf.LlamaFileType.ALL_F32,
        "f16": gguf.LlamaFileType.MOSTLY_F16,
        "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
    }[export_type]
    writer.add_file_type(int(file_type))
    for tensor in reader.tensors:
        data = weights.pop(tensor.name, None)
        expected = tuple(int(n) for n in reversed(tensor.shape.tolist()))
        if data is None or data.shape != expected:
            got = "missing" if data is None else f"shape {data.shape}"
            raise InputError("export", f"tensor '{tensor.name}' {got}, base GGUF has {expected}")
        qtype = _tensor_type(data, export_type)
        writer.add_tensor(tensor.name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    # a tied output head has no tensor of its own in the base file
    extra = set(weights) - {"output.weight"} if "token_embd.weight" not in weights else set(weights)
    if extra:
        raise InputError("export", f"weights with no tensor in the base GGUF: {sorted(extra)[:3]}")
    return finish_file(writer, tmp, out_path)


def finish_file(writer: Any, tmp: Path, out_path: Path) -> Path:
    """Write a filled GGUFWriter's header, metadata and tensors to ``tmp``, then move it to ``out_path``."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, out_path)
    return out_path
