"""The default setting is one in which queues fill, and the work left queued at the end is charged."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.run import solve
from offloadlab.scenarios.dt_vehicular.model import terminal_cost
from offloadlab.scenarios.dt_vehicular.params import preset_params
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM


@pytest.fixture(scope="module")
def lyapunov():
    """Lyapunov on the default preset at N = 10 for 10 slots (the documented case)."""
    return solve(PROBLEM.make_instance(0, "default", N=10, slots=10), "lyapunov", 0, None)[2]


def test_default_deadline_spans_several_slots():
    p = preset_params("default")
    # with T^max = tau a task that meets its deadline is served within its slot and no queue ever fills
    assert p.deadline_s >= 2 * p.slot_s


def test_default_queues_fill_and_the_leftover_is_charged(lyapunov):
    d = lyapunov.details
    assert max(d["series"]["queue_bytes"]) > 10_000 and d["final_queue_bytes"] > 10_000
    assert d["terminal_cost"] > 0
    slots = len(d["series"]["p2"])
    assert lyapunov.objective == pytest.approx(d["p2_slots"] + d["terminal_cost"] / slots)
    assert d["p2_slots"] == pytest.approx(np.mean(d["series"]["p2"]))


def test_terminal_cost_is_the_weighted_lyapunov_function():
    p = preset_params("default", beta=1e-9, terminal_queue_weight=2.0, K=3)
    # 2 * 1e-9 * (1000^2 + 2000^2 + 0) / 2 = 5e-3
    assert terminal_cost(p, np.array([1000.0, 2000.0, 0.0]))[0] == pytest.approx(5e-3)
    assert terminal_cost(p.model_copy(update={"terminal_queue_weight": 0.0}), np.array([1e4, 1e4, 1e4]))[0] == 0


def test_terminal_weight_zero_leaves_the_leftover_uncharged():
    data = PROBLEM.make_instance(0, "default", N=10, slots=10, terminal_queue_weight=0.0)
    res = solve(data, "lyapunov", 0, None)[2]
    assert res.details["final_queue_bytes"] > 0 and res.objective == pytest.approx(res.details["p2_slots"])


def test_stationary_evaluate_charges_the_leftover():
    data = PROBLEM.make_instance(0, "default", N=4, K=1, slots=5)
    inst = PROBLEM.load_instance(data)
    # everything offloaded with a tiny CPU share: the queue grows every slot
    decision = {"omega": np.ones((4, 1)), "alpha": np.full((4, 1), 1e-3)}
    ev = PROBLEM.evaluate(inst, decision)
    q = ev.details["final_queue_bytes"][0]
    assert q > 0
    p = inst.params
    # one queue (K = 1): terminal = beta q^2 / 2, spread over the 5 slots
    assert ev.objective[0] == pytest.approx(ev.details["p2_slots"][0] + p.beta * q**2 / 2 / p.slots)
