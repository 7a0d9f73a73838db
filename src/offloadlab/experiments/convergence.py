"""Has a learning curve settled? The rule judges the tail of the curve against the noise of that tail, so
the dip that follows a warm-up (exploration, a replay buffer filling) cannot make a still-moving curve look
flat, as a change measured in units of the whole curve's range could.

A curve (one value per episode; ``higher`` says which direction is better) has converged when both hold:

- **flat tail**: the least-squares trend over the last third moves the curve by at most ``TREND`` times the
  noise of that window (the standard deviation of the residuals around the trend line);
- **no unrecovered dip**: the mean of the last fifth is no worse than the best earlier fifth's mean by more
  than ``DIP`` times that noise (a learner that was better earlier and has not come back is still moving).

Both tests are ratios of differences of the curve, so the verdict does not change when the curve is shifted
or scaled by a positive factor (scaling by a negative factor with ``higher`` flipped gives the same verdict).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from offloadlab.rl.record import training_of

TREND = 1.0  # a trend over the last third of at most one noise standard deviation: flat
DIP = 1.0  # last fifth at most one noise standard deviation worse than the best earlier fifth
MIN_POINTS = 10  # fewer points than this: too short to judge
_EPS = 1e-6  # noise floor, relative to the curve's range: a noiseless curve is judged on its trend alone


@dataclass(frozen=True)
class Convergence:
    """The rule's verdict on one curve, with the numbers that decide it."""

    converged: bool
    points: int
    trend: float  # change over the last third along its trend line, in noise standard deviations (signed)
    dip: float  # how much worse the last fifth is than the best earlier fifth, in noise standard deviations
    fifths: tuple[float, ...]  # mean of each fifth of the curve

    def text(self) -> str:
        """One line for a claim's or a figure's text."""
        if self.points < MIN_POINTS:
            return f"{self.points} points: too short to judge"
        word = "converged" if self.converged else "not converged"
        than = "worse" if self.dip > 0 else "better"
        return (
            f"{word}: last-third trend {self.trend:+.2f} sd of its noise, last fifth {abs(self.dip):.2f} sd {than} "
            f"than the best earlier fifth (fifth means {', '.join(f'{m:.4g}' for m in self.fifths)})"
        )


def judge_curve(curve: Sequence[float] | np.ndarray, higher: bool = True) -> Convergence:
    """The convergence rule applied to one learning curve (see the module's docstring)."""
    y = np.asarray(curve, dtype=float)
    y = y[np.isfinite(y)]
    n = y.size
    if n < MIN_POINTS:
        return Convergence(False, n, math.nan, math.nan, ())
    y = y if higher else -y
    fifths = np.array_split(y, 5)
    means = tuple(float(f.mean()) for f in fifths)
    tail = y[-max(3, n // 3) :]
    tail = tail - tail.mean()  # centred: the fit's rounding does not grow with the curve's offset
    x = np.arange(tail.size, dtype=float)
    slope, intercept = np.polyfit(x, tail, 1)
    resid = tail - (slope * x + intercept)
    span = float(np.ptp(y))
    noise = max(float(resid.std()), _EPS * span)
    # a constant curve (or one whose range underflows) has settled: its residuals are rounding errors
    trend = float(slope * (tail.size - 1)) / noise if span > 0 and noise > 0 else 0.0
    dip = (max(means[:-1]) - means[-1]) / noise if span > 0 and noise > 0 else 0.0
    converged = abs(trend) <= TREND and dip <= DIP
    sign = 1.0 if higher else -1.0
    return Convergence(converged, n, sign * trend, dip, tuple(sign * m for m in means))


def episode_returns(stats: Mapping[str, Any], details: Mapping[str, Any] | None = None) -> list[float]:
    """A stored run's learning curve, one value per training episode: the training record's
    ``stats["training"]["episode_returns"]``, else the names older runs used (``training_episode_rewards`` in
    the stats, ``training_curve`` in the details); [] for a run that trained nothing."""
    training = stats.get("training")
    if isinstance(training, Mapping) and training.get("episode_returns"):
        return [float(x) for x in training["episode_returns"]]
    old = stats.get("training_episode_rewards") or (details or {}).get("training_curve") or []
    return [float(x) for x in old]


def training_cost(stats: Mapping[str, Any]) -> tuple[int, float]:
    """Environment steps and wall seconds of a stored run's training (the record's names, else older ones)."""
    record = training_of(stats)
    return int(record.get("env_steps") or 0), float(record.get("wall_s", math.nan))
