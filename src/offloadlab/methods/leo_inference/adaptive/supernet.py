"""A small weight-sharing supernet on scikit-learn's digits (eq. 31) and the Fig. 6 objective.

Digits (1,797 8 x 8 grey images, 10 classes) ships inside scikit-learn: nothing is downloaded. Its
accuracies are a proxy for ranking subnets and are NOT comparable to the paper's ImageNet accuracies.

Weight sharing: every stage position holds one candidate block per conv type, sized for the widest
choice and the largest kernel; narrower choices use the first channels of each weight and smaller
kernels its centre (elastic width and kernel, as in Once-for-All). Batch norm always normalises with the
batch's statistics (no running statistics), so a subnet is evaluated without recalibration. Training is
single-path one-shot (SPOS, Guo et al. 2020): one uniformly random subnet per mini-batch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.nag import LossGrad
from offloadlab.methods.leo_inference.adaptive.space import DIGITS, Geometry, SearchSpace, StageChoice

ACT = {"mb": F.hardswish, "shuffle": F.relu}


@dataclass(frozen=True)
class Digits:
    """Train/validation split of scikit-learn's digits as float tensors (N, 1, 8, 8) in [0, 1]."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def load_digits_split(seed: int = 0, val_fraction: float = 0.2) -> Digits:
    """Stratified split of digits; pixel values scaled from 0..16 to 0..1."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0 < val_fraction < 1:
        raise InputError("val_fraction", "must be in (0, 1)")
    data = load_digits()
    x = data.images.astype(np.float32)[:, None] / 16.0
    xt, xv, yt, yv = train_test_split(x, data.target, test_size=val_fraction, random_state=seed, stratify=data.target)
    return Digits(torch.from_numpy(xt), torch.from_numpy(yt).long(), torch.from_numpy(xv), torch.from_numpy(yv).long())


class ElasticConv(nn.Module):
    """Conv + batch-statistics BN whose weights are sliced to the channels and kernel in use."""

    def __init__(self, c_in: int, c_out: int, k: int, depthwise: bool = False):
        super().__init__()
        self.depthwise = depthwise
        self.weight = nn.Parameter(torch.empty(c_out, 1 if depthwise else c_in, k, k))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        self.gamma = nn.Parameter(torch.ones(c_out))
        self.beta = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, c_out: int | None = None, stride: int = 1, k: int | None = None) -> torch.Tensor:
        """Apply with ``c_out`` output channels (depthwise: as many as the input) and a ``k`` x ``k`` kernel."""
        c_in, k_max = x.shape[1], self.weight.shape[-1]
        k = k or k_max
        off = (k_max - k) // 2
        if self.depthwise:
            c_out, w, groups = c_in, self.weight[:c_in], c_in
        else:
            c_out = c_out or self.weight.shape[0]
            w, groups = self.weight[:c_out, :c_in], 1
        w = w[:, :, off : off + k, off : off + k]
        y = F.conv2d(x, w, None, stride, k // 2, groups=groups)
        return F.batch_norm(y, None, None, self.gamma[:c_out], self.beta[:c_out], training=True)


def _shuffle(x: torch.Tensor) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)


class CandidateBlock(nn.Module):
    """One conv-type candidate at one stage position (kernel elastic), mirroring ``operators.block_ops``."""

    def __init__(self, conv: str, k: int, c_in: int, c_out: int, expand: int, first: bool):
        super().__init__()
        self.conv, self.first = conv, first
        half = c_out // 2
        if conv == "mb":
            self.convs = nn.ModuleList(
                [
                    ElasticConv(c_in, expand * c_in, 1),
                    ElasticConv(expand * c_in, expand * c_in, k, depthwise=True),
                    ElasticConv(expand * c_in, c_out, 1),
                ]
            )
        elif first:
            self.convs = nn.ModuleList(
                [
                    ElasticConv(c_in, c_in, k, depthwise=True),
                    ElasticConv(c_in, half, 1),
                    ElasticConv(c_in, half, 1),
                    ElasticConv(half, half, k, depthwise=True),
                    ElasticConv(half, half, 1),
                ]
            )
        else:
            self.convs = nn.ModuleList(
                [ElasticConv(half, half, 1), ElasticConv(half, half, k, depthwise=True), ElasticConv(half, half, 1)]
            )

    def forward(self, x: torch.Tensor, c_out: int, k: int, stride: int, expand: int) -> torch.Tensor:
        """Run the block with ``c_out`` output channels and ``k`` x ``k`` depthwise kernels."""
        c = self.convs
        if self.conv == "mb":
            h = F.hardswish(c[0](x, expand * x.shape[1]))
            h = F.hardswish(c[1](h, stride=stride, k=k))
            y = c[2](h, c_out)
            return y + x if stride == 1 and x.shape[1] == c_out else y
        half = c_out // 2
        if self.first:
            left = F.relu(c[1](c[0](x, stride=stride, k=k), half))
            right = F.relu(c[4](c[3](F.relu(c[2](x, half)), stride=stride, k=k), half))
            return _shuffle(torch.cat((left, right), dim=1))
        # even/odd split instead of halves: after the shuffle it is a fixed channel permutation of
        # ShuffleNetV2's split, and it keeps a narrower subnet's channels a prefix of a wider one's
        keep, work = x[:, 0::2], x[:, 1::2]
        work = F.relu(c[2](c[1](F.relu(c[0](work, half)), k=k), half))
        return _shuffle(torch.cat((keep, work), dim=1))


class Supernet(nn.Module):
    """Every architecture of ``space`` at ``geo``, with shared weights."""

    def __init__(self, space: SearchSpace, geo: Geometry = DIGITS):
        super().__init__()
        if len(geo.strides) != space.stages:
            raise InputError("geometry", f"needs one stride per stage ({space.stages})")
        self.space, self.geo = space, geo
        self.stem = ElasticConv(geo.in_channels, space.stem_channels, 3)
        self.blocks = nn.ModuleDict()
        c_in = space.stem_channels
        for s, widths in enumerate(space.channels):
            for j in range(max(space.repeats)):
                for conv in space.convs:
                    self.blocks[f"s{s}b{j}{conv}"] = CandidateBlock(
                        conv, max(space.kernels), c_in if j == 0 else max(widths), max(widths), space.expand, j == 0
                    )
            c_in = max(widths)
        self.head = ElasticConv(c_in, space.head_channels, 1)
        self.classifier = nn.Linear(space.head_channels, geo.num_classes)

    def forward(self, x: torch.Tensor, arch: tuple[StageChoice, ...]) -> torch.Tensor:
        """Logits of the subnet ``arch``."""
        h = F.hardswish(self.stem(x, stride=self.geo.stem_stride))
        for s, (choice, stride) in enumerate(zip(arch, self.geo.strides)):
            for j in range(choice.repeat):
                block = self.blocks[f"s{s}b{j}{choice.conv}"]
                h = block(h, choice.out_channels, choice.kernel, stride if j == 0 else 1, self.space.expand)
        h = F.hardswish(self.head(h))
        return self.classifier(h.mean(dim=(2, 3)))


@dataclass(frozen=True)
class TrainReport:
    """What supernet training did."""

    epochs: int
    steps: int
    seconds: float
    final_loss: float


NAG_OR_ADAM = {"nag": 0.05, "adam": 0.01}  # optimiser -> default learning rate


def train_supernet(
    net: Supernet,
    data: Digits,
    epochs: int = 8,
    batch: int = 64,
    lr: float | None = None,
    seed: int = 0,
    fixed: np.ndarray | None = None,
    optimizer: str = "nag",
) -> TrainReport:
    """SPOS training with cosine decay, one uniformly random subnet per mini-batch; with ``fixed`` (genes)
    that subnet at every step instead, i.e. stand-alone training of one architecture. ``optimizer``: 'nag'
    (the paper's Nesterov accelerated gradient, eqs. 33-34, as SGD with Nesterov momentum 0.9, lr 0.05 by
    default) or 'adam' (lr 0.01 by default)."""
    if optimizer not in NAG_OR_ADAM:
        raise InputError("training", f"optimizer must be one of {list(NAG_OR_ADAM)}, got {optimizer!r}")
    lr = NAG_OR_ADAM[optimizer] if lr is None else lr
    if epochs < 1 or batch < 1 or lr <= 0:
        raise InputError("training", "epochs, batch >= 1 and lr > 0 are required")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(data.x_train) / batch)
    opt: torch.optim.Optimizer = (
        torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9, nesterov=True)
        if optimizer == "nag"
        else torch.optim.Adam(net.parameters(), lr=lr)
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps_per_epoch)
    start, loss = time.perf_counter(), torch.tensor(float("nan"))
    net.train()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(data.x_train)))
        for i in range(steps_per_epoch):
            idx = order[i * batch : (i + 1) * batch]
            arch = net.space.decode(net.space.sample(1, rng)[0] if fixed is None else fixed)
            loss = F.cross_entropy(net(data.x_train[idx], arch), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return TrainReport(epochs, epochs * steps_per_epoch, time.perf_counter() - start, float(loss.detach()))


def subnet_accuracy(net: Supernet, genes: np.ndarray, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of one subnet with the shared weights, on one batch holding the whole set."""
    with torch.no_grad():
        return float((net(x, net.space.decode(genes)).argmax(dim=1) == y).float().mean())


def supernet_objective(net: Supernet, data: Digits, archs: np.ndarray) -> tuple[LossGrad, np.ndarray]:
    """Eq. 31's loss as a deterministic function of the flat weights: mean cross-entropy over a fixed set of
    subnets (a sample standing for the expectation over the space) on the whole training set."""
    params = list(net.parameters())
    decoded = [net.space.decode(g) for g in archs]

    def fg(w: np.ndarray) -> tuple[float, np.ndarray]:
        torch.nn.utils.vector_to_parameters(torch.as_tensor(w, dtype=torch.float32), params)
        net.zero_grad(set_to_none=False)
        loss = sum(F.cross_entropy(net(data.x_train, a), data.y_train) for a in decoded) / len(decoded)
        loss.backward()  # type: ignore[union-attr]
        grad = torch.cat([p.grad.reshape(-1) for p in params])  # type: ignore[union-attr]
        return float(loss.detach()), grad.double().numpy()  # type: ignore[union-attr]

    for p in params:
        p.grad = torch.zeros_like(p)
    return fg, torch.nn.utils.parameters_to_vector(params).detach().double().numpy()
