"""Knowledge-base measurement with tiny durations, JSON round trip, strict loading, shipped base coverage."""

from __future__ import annotations

import math

import pytest
import torch

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.knowledge_base import (
    KnowledgeBase,
    Protocol,
    measure_knowledge_base,
    shipped_host_kb,
    time_callable,
)
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, space_ops
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, SearchSpace

TINY = Protocol(warmup_s=0.002, measure_s=0.01)
OPS = [OpSpec("pw", 8, 16, 8, act="relu"), OpSpec("dw", 16, 16, 8, 3, 2, "hswish"), OpSpec("pool", 16, 16, 4)]


def test_time_callable_is_the_mean_over_the_window():
    calls = []
    mean = time_callable(lambda: calls.append(1), TINY)
    assert len(calls) > 1 and 0 < mean < TINY.measure_s


def test_measure_tiny_kb_with_one_thread_restored():
    torch.set_num_threads(2)  # the autouse fixture set 1: start elsewhere to see the restore
    before = torch.get_num_threads()
    seen = []
    kb = measure_knowledge_base(OPS, TINY, lambda i, spec, sec: seen.append(torch.get_num_threads()))
    assert seen == [1, 1, 1] and torch.get_num_threads() == before
    assert set(kb.latency_s) == {o.key for o in OPS}
    assert all(math.isfinite(v) and v > 0 for v in kb.latency_s.values())
    assert kb.protocol == {"warmup_s": 0.002, "measure_s": 0.01, "threads": 1}
    assert kb.engine["name"] == "PyTorch" and kb.engine["version"] == torch.__version__


def test_json_roundtrip_and_strict_loading(tmp_path):
    kb = KnowledgeBase({"name": "PyTorch"}, {"name": "host"}, {"warmup_s": 1}, {OPS[0].key: 1e-4})
    kb.save(tmp_path / "kb.json")
    assert KnowledgeBase.load(tmp_path / "kb.json") == kb
    bad = kb.to_json()
    bad["latency_s"] = {OPS[0].key: float("nan")}
    with pytest.raises(InputError, match="finite"):
        KnowledgeBase.from_json(bad)
    with pytest.raises(InputError, match="device"):
        KnowledgeBase.from_json({k: v for k, v in kb.to_json().items() if k != "device"})


def test_protocol_validation():
    with pytest.raises(InputError):
        Protocol(warmup_s=-1)
    with pytest.raises(InputError):
        Protocol(measure_s=0)


def test_shipped_host_kb_covers_the_space_and_used_the_paper_protocol():
    kb = shipped_host_kb()
    assert {o.key for o in space_ops(SearchSpace(), DEPLOY)} <= set(kb.latency_s)
    assert kb.protocol == {"warmup_s": 1.0, "measure_s": 5.0, "threads": 1}
