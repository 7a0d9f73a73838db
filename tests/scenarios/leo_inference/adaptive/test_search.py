"""Eq. 32's search: exhaustive on a hand-made knowledge base, evolutionary on the full space."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.latency import CpuProfile, op_cost_fn
from offloadlab.methods.leo_inference.adaptive.search import additive_latency, search
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, SearchSpace

from .conftest import TINY_GEO, TINY_SPACE

# hand accuracies of the four tiny architectures (width index, repeat index)
ACC = {(0, 0): 0.80, (0, 1): 0.99, (1, 0): 0.95, (1, 1): 0.90}


def tiny_accuracy(genes):
    return ACC[(int(genes[0, 0]), int(genes[0, 3]))]


def test_search_picks_the_most_accurate_variant_inside_the_interval(unit_kb):
    lat = additive_latency(TINY_SPACE, TINY_GEO, op_cost_fn(unit_kb, CpuProfile("u", 1.0, 1e30)))
    # latencies 8, 12, 7, 11 ms: only (4, r1) = 8 ms and (8, r2) = 11 ms lie in [7.5, 11.5]
    res = search(TINY_SPACE, lat, tiny_accuracy, (7.5e-3, 11.5e-3), np.random.default_rng(0))
    assert TINY_SPACE.decode(res.genes)[0].out_channels == 8 and TINY_SPACE.decode(res.genes)[0].repeat == 2
    assert res.latency_s == pytest.approx(11e-3) and res.accuracy == 0.90
    assert (res.feasible, res.evaluated, res.candidates, res.method) == (2, 2, 4, "exhaustive")
    # widen the interval: the 12 ms, 99 % variant wins
    res = search(TINY_SPACE, lat, tiny_accuracy, (0.0, 12e-3), np.random.default_rng(0))
    assert res.accuracy == 0.99 and res.latency_s == pytest.approx(12e-3)


def test_ties_go_to_the_lower_latency(unit_kb):
    lat = additive_latency(TINY_SPACE, TINY_GEO, op_cost_fn(unit_kb, CpuProfile("u", 1.0, 1e30)))
    res = search(TINY_SPACE, lat, lambda g: 0.5, (0.0, 1.0), np.random.default_rng(0))
    assert res.latency_s == pytest.approx(7e-3)


def test_empty_interval_is_an_error(unit_kb):
    lat = additive_latency(TINY_SPACE, TINY_GEO, op_cost_fn(unit_kb, CpuProfile("u", 1.0, 1e30)))
    with pytest.raises(InputError, match="space spans"):
        search(TINY_SPACE, lat, tiny_accuracy, (13e-3, 14e-3), np.random.default_rng(0))


def test_evolutionary_search_respects_interval_and_budget(synthetic_kb):
    space = SearchSpace().narrowed("mb")
    lat = additive_latency(space, DEPLOY, op_cost_fn(synthetic_kb, CpuProfile("x", 1.0, 10e9)))
    all_lat = lat(space.enumerate())
    lo, hi = np.quantile(all_lat, [0.4, 0.5])
    calls = []

    def accuracy(genes):  # wider and deeper is better: the optimum sits at the top of the interval
        calls.append(1)
        return float(genes[:, 0].sum() + genes[:, 3].sum())

    res = search(space, lat, accuracy, (lo, hi), np.random.default_rng(1), budget=60)
    assert res.method == "evolutionary" and res.evaluated == 60 and len(calls) == 60
    assert lo <= res.latency_s <= hi and res.latency_s == pytest.approx(float(lat(res.genes[None])[0]))
    feasible = space.enumerate()[(all_lat >= lo) & (all_lat <= hi)]
    best = max(accuracy(g) for g in feasible[:: max(1, len(feasible) // 200)])
    assert res.accuracy >= best - 1  # within one choice step of the true optimum on a coarse grid


def test_sampled_candidates_when_the_space_is_large(synthetic_kb):
    space = SearchSpace()
    lat = additive_latency(space, DEPLOY, op_cost_fn(synthetic_kb, CpuProfile("x", 1.0, 10e9)))
    res = search(
        space,
        lat,
        lambda g: float(g.sum()),
        (0.0, 1.0),
        np.random.default_rng(2),
        budget=5,
        enumerate_limit=1000,
        samples=500,
    )
    assert res.candidates <= 500 and res.evaluated == 5
