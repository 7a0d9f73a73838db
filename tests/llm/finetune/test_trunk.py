"""Packed prompts around a shared prefix: mask and positions make each prompt read as alone."""

from __future__ import annotations

import pytest

from offloadlab.llm.finetune.trunk import pack

torch = pytest.importorskip("torch")


def test_pack_shares_the_longest_common_prefix():
    p = pack([[1, 2, 3, 4, 5], [1, 2, 3, 9], [1, 2, 7, 8, 6]])
    assert p.prefix == 2 and p.suffixes == (3, 2, 3)
    assert p.tokens == (1, 2, 3, 4, 5, 3, 9, 7, 8, 6)
    assert p.answer_at == [4, 6, 9]  # the last token of each prompt
    assert p.positions().tolist() == [0, 1, 2, 3, 4, 2, 3, 2, 3, 4]


def test_pack_mask_hides_other_prompts():
    p = pack([[1, 2, 3], [1, 2, 4, 5]])
    m = p.mask()
    assert m.shape == (5, 5)
    # the second prompt (positions 3, 4) sees the prefix and itself, never the first prompt's token
    assert m[4].tolist() == [True, True, False, True, True]
    assert m[2].tolist() == [True, True, True, False, False]
    assert not m.triu(1).any()  # causal


def test_identical_prompts_keep_an_answer_position_each():
    p = pack([[1, 2, 3], [1, 2, 3]])
    assert p.prefix == 2 and p.answer_at == [2, 3]
