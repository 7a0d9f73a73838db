"""Each dt-vehicular learner beats its untrained self on a fixed small instance (``tests/learning.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from offloadlab.core.run import solve
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM
from tests.learning import assert_beats, untrained

# Default preset (queues engaged: T^max = 3 slots), two vehicles, one task type, 10-slot episodes.
INSTANCE = PROBLEM.make_instance(3, "default", N=2, K=1, slots=10)
SMALL = {"hidden": [32, 32, 16], "lr_actor": 1e-3, "batch_size": 32, "progress": False}
# (budget in training slots, options, seed): smaller networks and a higher rate than the defaults, so
# that 15-20 episodes suffice; untrained, each policy scores about -0.83 here, trained -0.92 to -0.95
CASES: dict[str, tuple[int, dict[str, Any], int]] = {
    "marl": (150, SMALL, 0),
    "sarl": (150, SMALL, 0),
    "sarl-global": (200, {"hidden": [32, 32], "learning_rate": 1e-3, "noise": 0.2, "progress": False}, 0),
}
MARGIN = 0.05  # mean P2 per slot


def learns(solver: str) -> None:
    """The trained policy's mean P2 is at least MARGIN below that of the same run without learning."""
    budget, options, seed = CASES[solver]

    def run() -> Any:
        return solve(INSTANCE, solver, seed, budget, **options)[2]

    trained, frozen = run(), untrained(run)
    assert trained.stats["training"]["updates"] > 0
    assert_beats(trained.objective, frozen.objective, MARGIN, solver)


@pytest.mark.parametrize("solver", list(CASES))
def test_learner_beats_its_untrained_self(solver):
    learns(solver)
