"""A concrete (non-shared) torch network built from the knowledge base's own operator modules.

It runs one architecture end to end, so the CPU additivity the paper assumes (model latency = sum of
isolated operator delays) can be measured on this machine.
"""

from __future__ import annotations

import torch
from torch import nn

from offloadlab.methods.leo_inference.adaptive.knowledge_base import Protocol, time_callable
from offloadlab.methods.leo_inference.adaptive.operators import (
    OpSpec,
    block_ops,
    channel_shuffle,
    head_ops,
    op_module,
    stem_ops,
)
from offloadlab.methods.leo_inference.adaptive.space import Geometry, SearchSpace, StageChoice


class _Block(nn.Module):
    """One block wired as ``operators.block_ops`` lists it (mb, two-branch shuffle unit, split unit)."""

    def __init__(self, ops: list[OpSpec], conv: str, first: bool):
        super().__init__()
        self.conv, self.first = conv, first
        mods = [op_module(o) for o in ops]
        if conv == "mb":
            self.residual = len(ops) == 4
            self.branches = nn.ModuleList([nn.Sequential(*mods[:3])])
        elif first:
            self.branches = nn.ModuleList([nn.Sequential(*mods[:2]), nn.Sequential(*mods[2:5])])
        else:
            self.branches = nn.ModuleList([nn.Sequential(*mods[:3])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the block."""
        if self.conv == "mb":
            y = self.branches[0](x)
            return y + x if self.residual else y
        if self.first:
            return channel_shuffle(torch.cat((self.branches[0](x), self.branches[1](x)), dim=1))
        keep, work = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat((keep, self.branches[0](work)), dim=1))


def concrete_net(space: SearchSpace, arch: tuple[StageChoice, ...], geo: Geometry) -> nn.Module:
    """The architecture as an eval-mode ``nn.Sequential`` of the knowledge base's operator modules."""
    stem, hw = stem_ops(space, geo)
    layers: list[nn.Module] = [op_module(stem[0])]
    c_in = space.stem_channels
    for choice, stride in zip(arch, geo.strides):
        for j in range(choice.repeat):
            ops = block_ops(choice, c_in, hw, stride if j == 0 else 1, j == 0, space.expand)
            layers.append(_Block(ops, choice.conv, j == 0))
            c_in, hw = choice.out_channels, ops[-1].hw
    layers += [op_module(o) for o in head_ops(space, geo, c_in, hw)]
    return nn.Sequential(*layers).eval()


def measure_model(net: nn.Module, geo: Geometry, protocol: Protocol) -> float:
    """Mean end-to-end latency (s) of a batch-1 forward with ``protocol.threads`` torch threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    x = torch.randn(1, geo.in_channels, geo.input_hw, geo.input_hw, generator=torch.Generator().manual_seed(0))
    try:
        with torch.inference_mode():
            return time_callable(lambda: net(x), protocol)
    finally:
        torch.set_num_threads(before)
