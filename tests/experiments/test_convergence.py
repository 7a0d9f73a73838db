"""The learning-curve rule: the tail judged against its own noise, so that a warm-up dip cannot make a curve
that is still moving look flat."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from offloadlab.experiments.convergence import MIN_POINTS, episode_returns, judge_curve, training_cost

# MARL's learning curve of the quick dt-vehicular spec (dt_vehicular_training_quick: N = 4, 30 episodes of 10
# slots, seed 0), mean reward per slot of each episode, as stored: fifth means 0.157, 0.086, -2.066, -0.697,
# -0.098. The range-based plateau rule this replaces rated it converged.
QUICK_MARL = [
    0.3365, 0.3941, -0.7177, 0.2804, 0.3559, 0.2928, 0.5206, 0.5224, 0.5137, 0.4661,
    -0.5578, -0.9489, -6.4045, -4.8288, -0.5786, -0.5617, -0.539, 0.517, 0.4579, -0.6532,
    -0.5914, -0.6164, -1.8275, -0.9521, -1.7396, 0.2006, 0.2296, 0.1289, 0.2607, 0.333,
]  # fmt: skip


def _noise(n: int, seed: int, sd: float = 0.05) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, n)


def test_the_quick_marl_curve_is_not_converged():
    fifths = [float(f.mean()) for f in np.array_split(np.array(QUICK_MARL), 5)]
    assert fifths == pytest.approx([0.157, 0.086, -2.066, -0.697, -0.098], abs=1e-3)
    rule = judge_curve(QUICK_MARL)
    assert not rule.converged
    assert rule.trend > 1.0  # the last third still rises by more than its noise
    assert "not converged" in rule.text()


@pytest.mark.parametrize("seed", range(5))
def test_a_rising_curve_is_not_converged(seed):
    t = np.arange(200)
    assert not judge_curve(1 - np.exp(-t / 150) + _noise(200, seed)).converged


@pytest.mark.parametrize("seed", range(5))
def test_a_still_falling_curve_is_not_converged(seed):
    t = np.arange(200)
    rule = judge_curve(-0.002 * t + _noise(200, seed))
    assert not rule.converged and rule.trend < 0


@pytest.mark.parametrize("seed", range(5))
def test_a_noisy_flat_curve_is_converged(seed):
    assert judge_curve(3.0 + _noise(300, seed, sd=0.5)).converged


@pytest.mark.parametrize("seed", range(5))
def test_a_curve_that_settled_after_a_warm_up_dip_is_converged(seed):
    # exploration: a dip below the start, then learning up to a level that holds for the last half
    t = np.arange(300)
    y = np.where(t < 40, -1.0 * t / 40, np.minimum(-1.0 + 2.0 * (t - 40) / 100, 1.0)) + _noise(300, seed)
    assert judge_curve(y).converged


@pytest.mark.parametrize("seed", range(5))
def test_a_curve_below_its_earlier_best_is_not_converged(seed):
    # good early, then a collapse that flattened at a worse level: flat tail, but an unrecovered dip
    t = np.arange(200)
    y = np.where(t < 80, 1.0, 0.0) + _noise(200, seed)
    rule = judge_curve(y)
    assert not rule.converged and rule.dip > 1.0


def test_direction_matters_for_the_dip():
    # a cost that fell and stayed low has converged when lower is better, not when higher is
    y = np.where(np.arange(200) < 80, 1.0, 0.0) + _noise(200, 0)
    assert judge_curve(y, higher=False).converged
    assert not judge_curve(y, higher=True).converged


def test_too_short_a_curve_is_not_judged_converged():
    rule = judge_curve([1.0] * (MIN_POINTS - 1))
    assert not rule.converged and "too short" in rule.text()


def test_a_constant_curve_is_converged_and_a_noiseless_ramp_is_not():
    assert judge_curve([2.0] * 50).converged
    assert not judge_curve(np.linspace(0.0, 1.0, 50)).converged


curves = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=MIN_POINTS, max_size=80)


@settings(max_examples=200, deadline=None)
@given(curves, st.floats(1e-2, 1e2), st.floats(-1e3, 1e3))
def test_the_verdict_is_invariant_to_shifting_and_positive_scaling(y, a, b):
    y = np.asarray(y)
    # a shift can only keep what floating point resolves: differences far below the shift's ulp vanish in it
    assume(np.ptp(y) == 0 or np.ptp(y) > 1e-6 * (np.abs(y).max() + abs(b) / a))
    base, moved = judge_curve(y), judge_curve(a * y + b)
    assert base.converged == moved.converged or min(abs(abs(base.trend) - 1), abs(base.dip - 1)) < 1e-6
    if np.ptp(y) > 1e-6 * max(1.0, np.abs(y).max()):
        assert moved.trend == pytest.approx(base.trend, rel=1e-6, abs=1e-3)  # the thresholds are at 1 sd


@settings(max_examples=200, deadline=None)
@given(curves)
def test_negating_the_curve_and_the_direction_gives_the_same_verdict(y):
    y = np.asarray(y)
    assert judge_curve(y, higher=True).converged == judge_curve(-y, higher=False).converged


def test_the_curve_is_read_from_the_training_record_or_older_names():
    assert episode_returns({"training": {"episode_returns": [1, 2]}}) == [1.0, 2.0]
    assert episode_returns({"training_episode_rewards": [3]}) == [3.0]
    assert episode_returns({}, {"training_curve": [4, 5]}) == [4.0, 5.0]
    assert episode_returns({}, {}) == []
    assert training_cost({"training": {"env_steps": 30, "wall_s": 1.5}}) == (30, 1.5)
    assert training_cost({"training_steps": 20, "training_wall_s": 2.0}) == (20, 2.0)
