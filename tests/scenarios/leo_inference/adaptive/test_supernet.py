"""Digits supernet: shapes, a short SPOS run, the Fig. 6 objective and the figure functions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from offloadlab.methods.leo_inference.adaptive.figures import fig6, tables_figure
from offloadlab.methods.leo_inference.adaptive.report import WIDTH, fig6_curves, train_family_supernets
from offloadlab.methods.leo_inference.adaptive.space import SearchSpace, base_arch
from offloadlab.methods.leo_inference.adaptive.supernet import (
    Digits,
    Supernet,
    load_digits_split,
    subnet_accuracy,
    train_supernet,
)
from offloadlab.methods.leo_inference.adaptive.tables import Reproduced


@pytest.fixture(scope="module")
def data() -> Digits:
    return load_digits_split(0)


def test_digits_split(data):
    assert data.x_train.shape == (1437, 1, 8, 8) and data.x_val.shape == (360, 1, 8, 8)
    assert float(data.x_train.max()) == 1.0 and set(data.y_val.tolist()) == set(range(10))


def test_every_sampled_subnet_runs(data):
    space = SearchSpace().scaled(WIDTH)
    net = Supernet(space)
    for g in space.sample(6, np.random.default_rng(0)):
        assert net(data.x_val[:5], space.decode(g)).shape == (5, 10)


def test_short_training_learns_above_chance(data):
    space = SearchSpace().scaled(WIDTH).narrowed("mb")
    torch.manual_seed(0)  # the initial weights: the test must not depend on what ran before it
    net = Supernet(space)
    small = Digits(data.x_train[:640], data.y_train[:640], data.x_val, data.y_val)
    base = space.encode(base_arch(space, "mb"))
    before = subnet_accuracy(net, base, data.x_val, data.y_val)
    report = train_supernet(net, small, epochs=8, seed=0)
    assert report.steps == 80 and np.isfinite(report.final_loss)
    assert subnet_accuracy(net, base, data.x_val, data.y_val) > max(0.3, before + 0.1)


def test_fig6_curves_start_together_and_figure_is_written(data, tmp_path):
    curves = fig6_curves(steps=4, archs=1, samples=32, data=data)
    assert curves["gd"].shape == curves["nag"].shape == (4,)
    assert curves["gd"][0] == curves["nag"][0] and curves["gd"][1] == pytest.approx(curves["nag"][1])
    assert fig6(curves, tmp_path / "fig6.png").stat().st_size > 1000


def test_tables_figure_is_written(tmp_path):
    rows = [
        Reproduced(p, f, 30.0, 18.0, 72.0, 1.0, 30.0, 17.0, 97.0, 96.0, [], 5, 50, "exhaustive")
        for f in ("mb", "shuffle")
        for p in ("a", "b")
    ]
    assert tables_figure(rows, tmp_path / "t.png").stat().st_size > 1000


@pytest.mark.slow
def test_default_supernets_rank_subnets_well_above_chance(data):
    accuracy, reports = train_family_supernets(0, data=data)
    for fam in ("mb", "shuffle"):
        space = SearchSpace().narrowed(fam)
        accs = [accuracy[fam](g) for g in space.sample(10, np.random.default_rng(0))]
        # the median subnet is good; the deepest (base) subnet is trained least by uniform sampling
        assert np.median(accs) > 0.8
        assert reports[fam]["seconds"] < 120


def test_fixed_training_touches_only_that_path(data):
    space = SearchSpace().scaled(WIDTH).narrowed("shuffle")
    net = Supernet(space)
    genes = space.encode(base_arch(space, "shuffle"))
    genes[:, 3] = 0  # one block per stage: the second and third positions stay untouched
    before = {k: v.clone() for k, v in net.state_dict().items()}
    small = Digits(data.x_train[:128], data.y_train[:128], data.x_val, data.y_val)
    train_supernet(net, small, epochs=1, seed=0, fixed=genes)
    after = net.state_dict()
    assert not torch.equal(before["blocks.s0b0shuffle.convs.0.weight"], after["blocks.s0b0shuffle.convs.0.weight"])
    assert torch.equal(before["blocks.s0b1shuffle.convs.0.weight"], after["blocks.s0b1shuffle.convs.0.weight"])
