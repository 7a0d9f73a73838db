"""DQMSB's trained auctioneer beats its untrained self on a fixed small market (``tests/learning.py``)."""

from __future__ import annotations

from offloadlab.core.run import solve
from offloadlab.scenarios.sagin_caching.problem import PROBLEM
from tests.learning import assert_beats, untrained


def learns() -> None:
    """The trained Q-network's prices raise the test episode's total surplus over the frozen network's."""
    data = PROBLEM.make_instance(0, "default", T=12)

    def run():
        return solve(data, "dqmsb", seed=0, budget=400, progress=False)[2]

    trained, frozen = run(), untrained(run)
    assert trained.stats["training"]["updates"] > 0
    # seen: total surplus 0.115 trained against 0.098 frozen (the efficient allocation reaches 0.15)
    assert_beats(-trained.details["total_surplus"], -frozen.details["total_surplus"], 0.01, "dqmsb")


def test_dqmsb_beats_its_untrained_self():
    learns()
