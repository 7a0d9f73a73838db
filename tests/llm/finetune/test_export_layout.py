"""GGUF export helpers on hand-worked arrays (fast)."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.llm.finetune.export import _permute, _tensor_type


def test_permute_interleaves_rotary_halves_per_head():
    # one head of 4 rows: HF keeps halves [0, 1 | 2, 3]; llama.cpp interleaves them as pairs (0, 2), (1, 3)
    w = np.arange(4.0)[:, None] * np.ones((1, 3))
    assert _permute(w, 1)[:, 0].tolist() == [0.0, 2.0, 1.0, 3.0]
    # two heads of 4 rows each: the permutation stays inside each head
    assert _permute(np.arange(8.0), 2).tolist() == [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]


def test_permute_inverts_transformers_gguf_loader():
    gguf_utils = pytest.importorskip("transformers.modeling_gguf_pytorch_utils")
    rng = np.random.default_rng(0)
    w = rng.normal(size=(12, 5))
    processor = gguf_utils.LlamaTensorProcessor({"num_attention_heads": 3, "num_key_value_heads": 3})
    assert np.array_equal(processor._reverse_permute_weights(_permute(w, 3), 3, 3), w)


def test_tensor_types():
    from gguf import GGMLQuantizationType as Q

    assert _tensor_type(np.zeros(64), "q8_0") == Q.F32  # norms stay F32
    assert _tensor_type(np.zeros((2, 64)), "q8_0") == Q.Q8_0
    assert _tensor_type(np.zeros((2, 48)), "q8_0") == Q.F16  # rows that are not whole 32-blocks
    assert _tensor_type(np.zeros((2, 64)), "f16") == Q.F16 and _tensor_type(np.zeros((2, 64)), "f32") == Q.F32
