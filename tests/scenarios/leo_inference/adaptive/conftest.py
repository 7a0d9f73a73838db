"""Hand-made knowledge bases and tiny spaces for the adaptive-modeling tests."""

from __future__ import annotations

import pytest
import torch

from offloadlab.methods.leo_inference.adaptive.knowledge_base import KnowledgeBase
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, space_ops
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, Geometry, SearchSpace

TINY_GEO = Geometry(input_hw=8, in_channels=1, stem_stride=1, strides=(1,), num_classes=10)
TINY_SPACE = SearchSpace(
    channels=((4, 8),), kernels=(3,), convs=("mb",), repeats=(1, 2), stem_channels=4, head_channels=16
)


def kb_of(latency: dict[str, float]) -> KnowledgeBase:
    """A hand-made knowledge base."""
    return KnowledgeBase({"name": "hand"}, {"name": "hand"}, {}, latency)


def synthetic_delay(op: OpSpec) -> float:
    """A made-up but operator-dependent delay (s): grows with work, distinct across operators."""
    return 1e-6 * (1 + op.c_in * op.c_out * op.k * op.k * op.hw * op.hw / (op.stride * op.stride) / 1e3)


@pytest.fixture(scope="session")
def synthetic_kb() -> KnowledgeBase:
    """Every operator of the default space at the deployment geometry, with synthetic delays."""
    return kb_of({op.key: synthetic_delay(op) for op in space_ops(SearchSpace(), DEPLOY)})


@pytest.fixture()
def unit_kb() -> KnowledgeBase:
    """Every operator of the tiny space costs exactly 1 ms."""
    return kb_of({op.key: 1e-3 for op in space_ops(TINY_SPACE, TINY_GEO)})


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One torch thread in every test (the machine is shared; oversubscription makes CPU torch crawl)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
