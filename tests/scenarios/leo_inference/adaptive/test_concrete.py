"""The concrete network built from the knowledge base's operators matches the lowering."""

from __future__ import annotations

import numpy as np
import torch

from offloadlab.methods.leo_inference.adaptive.concrete import concrete_net, measure_model
from offloadlab.methods.leo_inference.adaptive.knowledge_base import Protocol
from offloadlab.methods.leo_inference.adaptive.operators import arch_ops
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, DIGITS, SearchSpace, base_arch


def test_parameters_equal_the_sum_over_lowered_operators():
    space = SearchSpace()
    archs = [base_arch(space, "mb"), base_arch(space, "shuffle")]
    archs += [space.decode(g) for g in space.sample(3, np.random.default_rng(0))]
    for arch in archs:
        net = concrete_net(space, arch, DIGITS)
        assert sum(p.numel() for p in net.parameters()) == sum(o.params() for o in arch_ops(space, arch, DIGITS))
        assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    assert sum(p.numel() for p in concrete_net(space, archs[0], DEPLOY).parameters()) == 1_308_280


def test_measure_model_with_tiny_durations():
    space = SearchSpace().scaled(0.25)
    net = concrete_net(space, base_arch(space, "shuffle"), DIGITS)
    sec = measure_model(net, DIGITS, Protocol(0.001, 0.01))
    assert 0 < sec < 1
