"""MADDPG learns: on a small case where the per-slot optimum is known, the trained policy comes close to it."""

from __future__ import annotations

import pytest

from offloadlab.core.run import solve
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

MARGIN = 0.1  # MADDPG must close at least 90 % of the gap between all-local and the optimum


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_maddpg_reaches_the_lyapunov_optimum(seed):
    # deadline = slot: the queues never engage (a served task fits in its slot), so P2 has no drift term and
    # Lyapunov's certified per-slot optimum is the optimum of the whole episode (gap <= 1e-3 checked below)
    data = PROBLEM.make_instance(7, "default", N=2, K=1, slots=20, deadline_s=0.1)
    _, _, best = solve(data, "lyapunov", 0, None)
    _, _, local = solve(data, "local", 0, None)
    _, _, marl = solve(data, "marl", seed, 600, progress=False, hidden=[64, 64, 32], lr_actor=1e-3)
    assert best.stats["max_duality_gap"] < 1e-3 and best.details["queue_bytes"] == 0
    gap = local.objective - best.objective
    assert gap > 0.3  # offloading matters here: all-local is far from the optimum
    assert marl.objective - best.objective <= MARGIN * gap, (marl.objective, best.objective, local.objective)
