"""Operators of the knowledge base and the lowering of an architecture to its operator list.

An operator carries the attributes the paper lists (type, input shape, kernel, stride, fused activation;
fp32 throughout). Convolutions include their batch norm and activation, as TFLite fuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.space import Geometry, SearchSpace, StageChoice

KINDS = ("conv", "pw", "dw", "shuffle", "add", "pool", "linear")
ACTS = ("none", "relu", "hswish")


@dataclass(frozen=True)
class OpSpec:
    """One operator: kind, input channels, output channels, input height = width, kernel, stride, activation."""

    kind: str
    c_in: int
    c_out: int
    hw: int = 1
    k: int = 1
    stride: int = 1
    act: str = "none"

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.act not in ACTS:
            raise InputError("operator", f"kind must be one of {KINDS}, act one of {ACTS}")
        if min(self.c_in, self.c_out, self.hw, self.k, self.stride) < 1:
            raise InputError("operator", f"{self}: sizes must be >= 1")

    @property
    def key(self) -> str:
        """Stable key of the operator in a knowledge base."""
        return f"{self.kind}|cin={self.c_in}|cout={self.c_out}|hw={self.hw}|k={self.k}|s={self.stride}|act={self.act}"

    @classmethod
    def from_key(cls, key: str) -> OpSpec:
        """Inverse of ``key``."""
        kind, *fields = key.split("|")
        vals = dict(f.split("=", 1) for f in fields)
        try:
            return cls(
                kind, int(vals["cin"]), int(vals["cout"]), int(vals["hw"]), int(vals["k"]), int(vals["s"]), vals["act"]
            )
        except (KeyError, ValueError) as exc:
            raise InputError("operator key", f"'{key}' is malformed ({exc})") from None

    def params(self) -> int:
        """Number of weights (conv + folded batch norm scale/shift, or linear weight + bias)."""
        if self.kind == "conv" or self.kind == "pw":
            return self.c_in * self.c_out * self.k * self.k + 2 * self.c_out
        if self.kind == "dw":
            return self.c_in * self.k * self.k + 2 * self.c_in
        if self.kind == "linear":
            return self.c_in * self.c_out + self.c_out
        return 0


def _act(name: str) -> nn.Module:
    return {"none": nn.Identity(), "relu": nn.ReLU(), "hswish": nn.Hardswish()}[name]


def channel_shuffle(y: torch.Tensor) -> torch.Tensor:
    """ShuffleNet's channel shuffle with two groups."""
    n, c, h, w = y.shape
    return y.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class _Shuffle(nn.Module):
    """Concatenation of the two branch halves followed by a channel shuffle with two groups."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(torch.cat(x.chunk(2, dim=1), dim=1))


class _Add(nn.Module):
    """Residual addition of two tensors of the same shape (the input added to itself)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + x


def op_module(spec: OpSpec) -> nn.Module:
    """A real torch module computing the operator (eval mode)."""
    pad = spec.k // 2
    if spec.kind in ("conv", "pw", "dw"):
        groups = spec.c_in if spec.kind == "dw" else 1
        mod: nn.Module = nn.Sequential(
            nn.Conv2d(spec.c_in, spec.c_out, spec.k, spec.stride, pad, groups=groups, bias=False),
            nn.BatchNorm2d(spec.c_out),
            _act(spec.act),
        )
    elif spec.kind == "shuffle":
        mod = _Shuffle()
    elif spec.kind == "add":
        mod = _Add()
    elif spec.kind == "pool":
        mod = nn.AdaptiveAvgPool2d(1)
    else:
        mod = nn.Sequential(nn.Flatten(), nn.Linear(spec.c_in, spec.c_out))
    return mod.eval()


def op_input(spec: OpSpec) -> torch.Tensor:
    """A batch-1 fp32 input of the operator's shape."""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(1, spec.c_in, spec.hw, spec.hw, generator=gen)


def _conv_out(hw: int, k: int, stride: int) -> int:
    return (hw + 2 * (k // 2) - k) // stride + 1


def block_ops(choice: StageChoice, c_in: int, hw: int, stride: int, first: bool, expand: int) -> list[OpSpec]:
    """Operators of one block: the first block of a stage changes channels/resolution, the others keep them."""
    k, c_out = choice.kernel, choice.out_channels
    out_hw = _conv_out(hw, k, stride)
    if choice.conv == "mb":
        hidden = expand * c_in
        ops = [
            OpSpec("pw", c_in, hidden, hw, act="hswish"),
            OpSpec("dw", hidden, hidden, hw, k, stride, "hswish"),
            OpSpec("pw", hidden, c_out, out_hw),
        ]
        if stride == 1 and c_in == c_out:
            ops.append(OpSpec("add", c_out, c_out, out_hw))
        return ops
    half = c_out // 2
    if first:  # two-branch (downsampling) unit: both branches see the whole input
        return [
            OpSpec("dw", c_in, c_in, hw, k, stride),
            OpSpec("pw", c_in, half, out_hw, act="relu"),
            OpSpec("pw", c_in, half, hw, act="relu"),
            OpSpec("dw", half, half, hw, k, stride),
            OpSpec("pw", half, half, out_hw, act="relu"),
            OpSpec("shuffle", c_out, c_out, out_hw),
        ]
    return [
        OpSpec("pw", half, half, hw, act="relu"),  # split unit: half the channels pass through
        OpSpec("dw", half, half, hw, k, 1),
        OpSpec("pw", half, half, hw, act="relu"),
        OpSpec("shuffle", c_out, c_out, hw),
    ]


def stem_ops(space: SearchSpace, geo: Geometry) -> tuple[list[OpSpec], int]:
    """The fixed 3 x 3 stem and its output resolution."""
    op = OpSpec("conv", geo.in_channels, space.stem_channels, geo.input_hw, 3, geo.stem_stride, "hswish")
    return [op], _conv_out(geo.input_hw, 3, geo.stem_stride)


def stage_ops(choice: StageChoice, c_in: int, hw: int, stride: int, expand: int) -> tuple[list[OpSpec], int]:
    """Operators of one stage (``repeat`` blocks) and its output resolution."""
    ops = block_ops(choice, c_in, hw, stride, True, expand)
    out_hw = _conv_out(hw, choice.kernel, stride)
    for _ in range(choice.repeat - 1):
        ops += block_ops(choice, choice.out_channels, out_hw, 1, False, expand)
    return ops, out_hw


def head_ops(space: SearchSpace, geo: Geometry, c_in: int, hw: int) -> list[OpSpec]:
    """1 x 1 conv to the head width, global pooling, classifier."""
    return [
        OpSpec("pw", c_in, space.head_channels, hw, act="hswish"),
        OpSpec("pool", space.head_channels, space.head_channels, hw),
        OpSpec("linear", space.head_channels, geo.num_classes),
    ]


def arch_ops(space: SearchSpace, arch: tuple[StageChoice, ...], geo: Geometry) -> list[OpSpec]:
    """Lower an architecture to its operator list in execution order."""
    if len(geo.strides) != space.stages or len(arch) != space.stages:
        raise InputError("geometry", f"needs one stride per stage ({space.stages})")
    ops, hw = stem_ops(space, geo)
    c_in = space.stem_channels
    for choice, stride in zip(arch, geo.strides):
        more, hw = stage_ops(choice, c_in, hw, stride, space.expand)
        ops += more
        c_in = choice.out_channels
    return ops + head_ops(space, geo, c_in, hw)


def space_ops(space: SearchSpace, geo: Geometry) -> list[OpSpec]:
    """Every distinct operator any architecture of the space can use (what the knowledge base must hold)."""
    found: dict[str, OpSpec] = {}
    stem, hw = stem_ops(space, geo)
    found.update((o.key, o) for o in stem)
    prev: tuple[int, ...] = (space.stem_channels,)
    for s, stride in enumerate(geo.strides):
        out_hw = {}
        for c_in in prev:
            for c in space.channels[s]:
                for k in space.kernels:
                    for conv in space.convs:
                        ops, out_hw[k] = stage_ops(
                            StageChoice(c, k, conv, max(space.repeats)), c_in, hw, stride, space.expand
                        )
                        found.update((o.key, o) for o in ops)
        if len(set(out_hw.values())) != 1:
            raise InputError("kernels", "kernel choices must give the same output size")
        hw, prev = out_hw[space.kernels[0]], space.channels[s]
    for c_in in prev:
        found.update((o.key, o) for o in head_ops(space, geo, c_in, hw))
    return list(found.values())
