"""MADDPG learns on the default setting: default hyper-parameters, queues engaged (T^max = 3 slots), and the
trained policy comes close to the Lyapunov policy."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.run import solve
from offloadlab.methods.dt_vehicular.hyper import MADDPG
from offloadlab.scenarios.dt_vehicular.params import preset_params
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

MARGIN = 0.1  # MADDPG must close at least 90 % of the gap between all-local and Lyapunov
BUDGET = 1000  # training slots (50 episodes of 20 slots); about 20 s per seed


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_maddpg_reaches_the_lyapunov_policy_with_queues(seed):
    data = PROBLEM.make_instance(7, "default", N=4, K=1, slots=20)
    p = PROBLEM.load_instance(data).params
    assert p.deadline_s == preset_params("default").deadline_s > p.slot_s  # work may queue across slots
    # the queues are live here: offloading with little CPU builds a backlog that P2 and the terminal cost charge
    starved = PROBLEM.evaluate(PROBLEM.load_instance(data), {"omega": np.ones((4, 1)), "alpha": np.full((4, 1), 0.01)})
    assert starved.details["final_queue_bytes"][0] > 0 and starved.details["terminal_cost"][0] > 0
    _, _, best = solve(data, "lyapunov", 0, None)
    _, _, local = solve(data, "local", 0, None)
    _, _, marl = solve(data, "marl", seed, BUDGET, progress=False)  # every hyper-parameter at its default
    assert marl.stats["training"]["env_steps"] == BUDGET and tuple(MADDPG.hidden) == (300, 100, 64)
    gap = local.objective - best.objective
    assert gap > 0.2  # offloading matters here: all-local is far from Lyapunov
    assert marl.objective - best.objective <= MARGIN * gap, (marl.objective, best.objective, local.objective)
