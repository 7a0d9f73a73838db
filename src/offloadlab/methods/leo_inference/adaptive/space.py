"""Search space of adaptive modeling (PyGlove-like ``oneof``/``repeat``).

Per stage: out channels, kernel size, convolution type and repeat count.

An architecture is an integer gene array of shape (stages, 4): per stage the indices of
(out_channels, kernel, conv type, repeat) in the space's choice tuples. Populations are arrays of
shape (n, stages, 4), so latencies of many architectures are computed in one array expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offloadlab.core.errors import InputError

CONV_TYPES = ("mb", "shuffle")  # MobileNetV3-like inverted residual, ShuffleNetV2-like unit
FIELDS = ("out_channels", "kernel", "conv", "repeat")
CHANNEL, KERNEL, CONV, REPEAT = range(4)


@dataclass(frozen=True)
class Geometry:
    """Where the network runs: input size and channels, stem and stage strides, classes."""

    input_hw: int
    in_channels: int
    stem_stride: int
    strides: tuple[int, ...]
    num_classes: int


# Latency is that of the ImageNet-shaped network (224 x 224 RGB, MobileNet strides, 1000 classes);
# accuracy is measured on 8 x 8 digits, where the same choices run with smaller strides.
DEPLOY = Geometry(input_hw=224, in_channels=3, stem_stride=2, strides=(2, 2, 2, 2), num_classes=1000)
DIGITS = Geometry(input_hw=8, in_channels=1, stem_stride=1, strides=(1, 2, 1, 2), num_classes=10)


@dataclass(frozen=True)
class StageChoice:
    """One stage of a decoded architecture."""

    out_channels: int
    kernel: int
    conv: str
    repeat: int


@dataclass(frozen=True)
class SearchSpace:
    """Choices per stage; ``convs`` may be narrowed to one family (MobileNetV3-like or ShuffleNetV2-like)."""

    channels: tuple[tuple[int, ...], ...] = ((24, 32, 40), (40, 56, 72), (80, 96, 112), (112, 144, 160))
    kernels: tuple[int, ...] = (3, 5, 7)
    convs: tuple[str, ...] = CONV_TYPES
    repeats: tuple[int, ...] = (1, 2, 3)
    stem_channels: int = 16
    head_channels: int = 256
    expand: int = 4  # expansion ratio of the inverted residual (MobileNetV3 varies it; fixed here)

    def __post_init__(self) -> None:
        if not self.channels or any(not c for c in self.channels):
            raise InputError("channels", "every stage needs at least one channel choice")
        if any(c <= 0 or c % 2 for stage in self.channels for c in stage):
            raise InputError("channels", "channel counts must be positive and even (shuffle units split them)")
        if any(k <= 0 or k % 2 == 0 for k in self.kernels) or not self.kernels:
            raise InputError("kernels", "kernel sizes must be positive odd integers")
        if not self.convs or any(c not in CONV_TYPES for c in self.convs):
            raise InputError("convs", f"choose among {CONV_TYPES}")
        if not self.repeats or any(r < 1 for r in self.repeats):
            raise InputError("repeats", "repeat counts must be >= 1")

    @property
    def stages(self) -> int:
        """Number of searchable stages."""
        return len(self.channels)

    def cardinalities(self) -> np.ndarray:
        """Number of choices per (stage, field), shape (stages, 4)."""
        return np.array([[len(c), len(self.kernels), len(self.convs), len(self.repeats)] for c in self.channels])

    def size(self) -> int:
        """Number of architectures in the space."""
        return int(np.prod(self.cardinalities().astype(float)))

    def narrowed(self, conv: str) -> SearchSpace:
        """The same space with a single conv type (one model family)."""
        return SearchSpace(
            self.channels, self.kernels, (conv,), self.repeats, self.stem_channels, self.head_channels, self.expand
        )

    def scaled(self, mult: float) -> SearchSpace:
        """The same choices with every width multiplied by ``mult`` (rounded to even, at least 2): the genes
        keep their meaning, so a narrow twin can stand in for the network when measuring accuracy."""

        def w(c: int) -> int:
            return max(2, 2 * round(c * mult / 2))

        return SearchSpace(
            tuple(tuple(w(c) for c in st) for st in self.channels),
            self.kernels,
            self.convs,
            self.repeats,
            w(self.stem_channels),
            w(self.head_channels),
            self.expand,
        )

    def enumerate(self) -> np.ndarray:
        """Every architecture as genes, shape (size, stages, 4)."""
        card = tuple(int(c) for c in self.cardinalities().reshape(-1))
        grid = np.indices(card).reshape(len(card), -1).T
        return grid.reshape(-1, self.stages, 4).astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n uniformly random architectures, shape (n, stages, 4)."""
        card = self.cardinalities()
        return np.floor(rng.random((n, *card.shape)) * card).astype(np.int64)

    def decode(self, genes: np.ndarray) -> tuple[StageChoice, ...]:
        """Gene array (stages, 4) -> readable stage choices."""
        g = np.asarray(genes)
        if g.shape != (self.stages, 4) or np.any(g < 0) or np.any(g >= self.cardinalities()):
            raise InputError("genes", f"expected indices of shape ({self.stages}, 4) within the space")
        return tuple(
            StageChoice(
                self.channels[s][g[s, CHANNEL]],
                self.kernels[g[s, KERNEL]],
                self.convs[g[s, CONV]],
                self.repeats[g[s, REPEAT]],
            )
            for s in range(self.stages)
        )

    def encode(self, arch: tuple[StageChoice, ...]) -> np.ndarray:
        """Readable stage choices -> gene array (stages, 4)."""
        if len(arch) != self.stages:
            raise InputError("arch", f"expected {self.stages} stages, got {len(arch)}")
        try:
            return np.array(
                [
                    [
                        self.channels[s].index(a.out_channels),
                        self.kernels.index(a.kernel),
                        self.convs.index(a.conv),
                        self.repeats.index(a.repeat),
                    ]
                    for s, a in enumerate(arch)
                ]
            )
        except ValueError as exc:
            raise InputError("arch", f"choice outside the space ({exc})") from None


def base_arch(space: SearchSpace, conv: str) -> tuple[StageChoice, ...]:
    """The un-adapted model of a family: widest channels, three blocks per stage, MobileNetV3's 3/5 kernels
    (ShuffleNetV2 uses 3 x 3 everywhere)."""
    kernels = (3, 5, 3, 5) if conv == "mb" else (3, 3, 3, 3)
    return tuple(
        StageChoice(
            max(space.channels[s]),
            kernels[s % 4] if kernels[s % 4] in space.kernels else space.kernels[0],
            conv,
            max(space.repeats),
        )
        for s in range(space.stages)
    )
