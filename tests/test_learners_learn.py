"""The learns-tests can fail: with every torch optimiser step a no-op, each one's assertion fails.

Each learner's test (``tests/learning.py``) compares the trained run with the same run without learning;
here the trained run cannot learn either, so a test that passed anyway would be measuring something other
than learning (exploration luck, a margin of zero). Slow (it repeats every learns-test, about 30 s):
``pytest -m slow tests/test_learners_learn.py``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from tests.dt_vehicular import test_learns as dt
from tests.learning import frozen_optimisers
from tests.sagin_caching import test_dqmsb_learns as dqmsb
from tests.satellite_mec import test_ddpg as ddpg
from tests.scenarios.mec_queues import test_dqn as dqn

LEARNS: dict[str, Callable[[], None]] = {
    **{f"dt-vehicular/{s}": partial(dt.learns, s) for s in dt.CASES},
    "satellite-mec/ddpg": ddpg.learns,
    "sagin-caching/dqmsb": dqmsb.learns,
    "mec-queues/dqn": dqn.learns,
}


@pytest.mark.slow
@pytest.mark.parametrize("learner", list(LEARNS))
def test_learns_test_fails_without_optimiser_steps(learner):
    with frozen_optimisers(), pytest.raises(AssertionError, match="does not beat its untrained self"):
        LEARNS[learner]()
