"""Operators, lowering and latency composition against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.latency import (
    CpuProfile,
    cpu_latency,
    fit_factor,
    gpu_latency,
    model_bytes,
    op_cost_fn,
)
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, arch_ops, op_input, op_module
from offloadlab.methods.leo_inference.adaptive.search import additive_latency
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, Geometry, SearchSpace, StageChoice, base_arch

from .conftest import TINY_GEO, TINY_SPACE, kb_of

PW = OpSpec("pw", 2, 3, 4)  # 2*3 weights + 2*3 BN = 12 params = 48 bytes
DW = OpSpec("dw", 3, 3, 4, 3)  # 3*9 weights + 2*3 BN = 33 params = 132 bytes


def test_params_by_hand():
    assert PW.params() == 12 and DW.params() == 33
    assert OpSpec("pw", 16, 64, 112).params() == 16 * 64 + 128
    assert OpSpec("linear", 256, 1000).params() == 256 * 1000 + 1000
    assert OpSpec("shuffle", 8, 8, 4).params() == 0
    assert model_bytes([PW, DW]) == 180


def test_key_roundtrip_and_bad_key():
    assert OpSpec.from_key(DW.key) == DW
    with pytest.raises(InputError):
        OpSpec.from_key("dw|cin=3")
    with pytest.raises(InputError):
        OpSpec("conv3d", 1, 1)


def test_cpu_latency_is_transfer_plus_scaled_sum():
    kb = kb_of({PW.key: 1e-3, DW.key: 2e-3})
    prof = CpuProfile("phone", factor=2.0, bandwidth_Bps=1.8e5)  # 180 B -> 1 ms transfer
    assert cpu_latency([PW, DW], kb, prof) == pytest.approx(1e-3 + 2 * 3e-3)
    cost = op_cost_fn(kb, prof)
    assert cost(PW) + cost(DW) == pytest.approx(7e-3)
    assert fit_factor([PW, DW], kb, 7e-3, 1.8e5) == pytest.approx(2.0)
    with pytest.raises(InputError):
        fit_factor([PW, DW], kb, 0.5e-3, 1.8e5)  # below the transfer time
    with pytest.raises(InputError):
        cpu_latency([OpSpec("pw", 5, 5, 5)], kb, prof)  # not in the base: an error, never a guess


def test_gpu_latency_pipeline_by_hand():
    # f0 = 2 + 1 = 3, f1 = max(4, 3) + 5 = 9, f2 = max(6, 9) + 1 = 10, plus 0.5 copy-in
    assert gpu_latency(np.array([1.0, 5.0, 1.0]), 2.0, 0.5) == pytest.approx(10.5)
    assert gpu_latency(np.array([1.0, 5.0, 1.0]), 0.0, 0.0) == pytest.approx(7.0)  # no queueing: the sum
    assert gpu_latency(np.array([1.0, 5.0, 1.0]), 10.0, 0.0) == pytest.approx(31.0)  # launch-bound
    assert gpu_latency(np.array([1.0, 5.0, 1.0]), 2.0, 0.0) < 3 * 2.0 + 7.0  # not additive
    with pytest.raises(InputError):
        gpu_latency(np.array([]), 1.0, 0.0)


def test_lowering_of_a_tiny_mb_stage_by_hand():
    geo = Geometry(8, 1, 1, (2,), 10)
    space = SearchSpace(channels=((8,),), kernels=(3,), convs=("mb",), repeats=(2,), stem_channels=4, head_channels=16)
    ops = arch_ops(space, (StageChoice(8, 3, "mb", 2),), geo)
    assert [(o.kind, o.c_in, o.c_out, o.hw, o.stride) for o in ops] == [
        ("conv", 1, 4, 8, 1),
        ("pw", 4, 16, 8, 1),
        ("dw", 16, 16, 8, 2),
        ("pw", 16, 8, 4, 1),
        ("pw", 8, 32, 4, 1),
        ("dw", 32, 32, 4, 1),
        ("pw", 32, 8, 4, 1),
        ("add", 8, 8, 4, 1),
        ("pw", 8, 16, 4, 1),
        ("pool", 16, 16, 4, 1),
        ("linear", 16, 10, 1, 1),
    ]


def test_lowering_of_shuffle_units():
    space = SearchSpace().narrowed("shuffle")
    ops = arch_ops(space, base_arch(space, "shuffle"), DEPLOY)
    kinds = [o.kind for o in ops]
    # stem + 4 stages x (two-branch unit of 6 ops + 2 split units of 4 ops) + head of 3
    assert len(ops) == 1 + 4 * (6 + 2 * 4) + 3
    assert kinds[1:7] == ["dw", "pw", "pw", "dw", "pw", "shuffle"]
    assert ops[-3].hw == 7 and ops[-1].c_out == 1000


def test_op_modules_produce_the_declared_shapes():
    for op in (
        OpSpec("dw", 8, 8, 16, 5, 2, "hswish"),
        OpSpec("pw", 8, 12, 16, act="relu"),
        OpSpec("shuffle", 8, 8, 4),
        OpSpec("pool", 8, 8, 4),
        OpSpec("linear", 8, 3),
    ):
        y = op_module(op)(op_input(op))
        assert y.shape[1] == op.c_out or op.kind == "linear" and y.shape == (1, 3)


def test_vectorised_latency_equals_the_direct_sum(synthetic_kb):
    space = SearchSpace()
    prof = CpuProfile("x", 1.7, 5e9)
    lat = additive_latency(space, DEPLOY, op_cost_fn(synthetic_kb, prof))
    genes = space.sample(25, np.random.default_rng(0))
    direct = [cpu_latency(arch_ops(space, space.decode(g), DEPLOY), synthetic_kb, prof) for g in genes]
    np.testing.assert_allclose(lat(genes), direct, rtol=1e-12)


def test_tiny_space_latencies_count_operators(unit_kb):
    lat = additive_latency(TINY_SPACE, TINY_GEO, op_cost_fn(unit_kb, CpuProfile("u", 1.0, 1e30)))
    genes = TINY_SPACE.enumerate()  # (width 4, r1), (4, r2), (8, r1), (8, r2)
    np.testing.assert_allclose(lat(genes), [8e-3, 12e-3, 7e-3, 11e-3])
