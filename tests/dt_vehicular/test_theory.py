"""Lyapunov theory on the model (Section III-F): the drift-plus-penalty trade-off in V = 1/beta and strong
stability of the queues (eq. 6 / 17b) under the per-slot P2 solver.

The setting: 2 vehicles, 1 task type, 10 ms slots, so a slot serves 2 kB while the vehicles can offload
up to 3 kB; with the 0.3 s deadline (30 slots) the penalty-optimal decision offloads more than one slot
serves, and only the drift term holds the backlog back.
"""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.methods.dt_vehicular.lyapunov import solve_slot
from offloadlab.scenarios.dt_vehicular.model import generate_episode, make_params, run_policy


def run_lyapunov(beta: float, slots: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-slot series of the drift-plus-penalty policy."""
    p = make_params("default", N=2, K=1, slot_s=0.01, slots=slots, beta=beta)

    def policy(s):
        sol = solve_slot(p, s.rate_bps, s.task_bytes, s.queue)
        return sol.omega, sol.alpha

    series = run_policy(generate_episode(p, seed), policy).log.series()
    return {k: v[:, 0] for k, v in series.items()} | {"penalty": series["p2"][:, 0] - beta * series["drift"][:, 0]}


def test_arrivals_can_exceed_one_slots_service():
    p = make_params("default", N=2, K=1, slot_s=0.01)
    service = p.slot_s * p.f_edge_hz / p.cycles_per_byte  # whole server, one slot (bytes)
    assert service == pytest.approx(2000.0) and p.N * p.K * p.task_bytes_max > service
    assert p.deadline_s > p.slot_s


def test_v_sweep_penalty_falls_and_backlog_grows():
    # beta = 1/V: as V grows, time-average penalty -U + E falls (O(1/V) to the optimum), backlog grows (O(V))
    runs = [run_lyapunov(beta, 150) for beta in (1e-6, 1e-7, 1e-8)]
    pen = [r["penalty"][75:].mean() for r in runs]
    back = [r["queue_bytes"][75:].mean() for r in runs]
    assert pen[0] >= pen[1] >= pen[2] and pen[0] > pen[2]
    assert back[0] < back[1] < back[2]
    assert back[2] > 3 * back[1] > 9 * back[0]  # roughly proportional to V (10x per step)


@pytest.mark.slow
def test_strong_stability_over_a_long_horizon():
    # (6): the time-average backlog stays bounded: it settles (the last half's mean is within 10 % of the
    # second quarter's) and the backlog never runs away from it
    q = run_lyapunov(1e-8, 1000)["queue_bytes"]
    T = len(q)
    settled, last = q[T // 4 : T // 2].mean(), q[T // 2 :].mean()
    assert last == pytest.approx(settled, rel=0.1)
    running = np.cumsum(q) / np.arange(1, T + 1)
    assert running[-1] <= 1.1 * running[T // 2] and q.max() <= 3 * last
