"""Equations and the evaluation, against hand-worked values."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.physics.orbits import Windows
from offloadlab.physics.queues import fifo_multi
from offloadlab.scenarios.leo_inference import links
from offloadlab.scenarios.leo_inference.model import benefit_argument, benefit_fn
from offloadlab.scenarios.leo_inference.params import preset_params
from offloadlab.scenarios.leo_inference.problem import PROBLEM, model_of


def test_benefit_eqs_2_to_5():
    # Delta_c = 0.96 - 0.32 - 0.52 = 0.12 s, Delta_a = 0.752 - 0.72 = 0.032: 0.5 * 0.12 + 0.5 * 0.032 = 0.076
    x = benefit_argument(np.array([0.96, 0.5]), 0.32, np.array([0.52, 0.52]), 0.72, 0.752, 0.5)
    assert x == pytest.approx([0.076, 0.5 * (0.5 - 0.84) + 0.016])
    p = preset_params("paper")
    assert benefit_fn(x, p) == pytest.approx([0.076, 0.0])  # F is zero for a negative argument
    logp = preset_params("paper", benefit="log", benefit_scale=0.01)
    assert benefit_fn(x, logp)[0] == pytest.approx(0.01 * math.log(1 + 7.6))


def test_link_delays():
    assert links.goodput_delay(8e6, 10e6, 0.2) == pytest.approx(1.0)
    assert links.goodput_delay(8e6, 10e6, 0.2, 0.5) == pytest.approx(2.0)
    # 2 x 2997.92458 km at c = 20 ms RTT: k = C / RTT = 1 Mbit / 0.02 s = 50 Mbps; 4 Mbit would give 200, capped at 100
    assert links.isl_rate_bps(2997.92458, 1e6, 0.0, 100e6) == pytest.approx(50e6)
    assert links.isl_rate_bps(2997.92458, 4e6, 0.0, 100e6) == pytest.approx(100e6)


def test_algorithm4_hand_cases():
    inf = np.inf
    need = np.array(
        [
            [inf, 0.5, 0.3, 0.9],  # same-orbit 1 fits: chosen before the faster other-orbit 2
            [inf, 0.5, 0.6, 0.8],  # same-orbit 1 busy (masked): other orbits 2 (min) or 3 (max)
            [inf, 2.0, 2.0, 2.0],  # nothing fits: local
            [inf, 1.5, 0.7, 0.2],
        ]
    )  # same-orbit 1 does not fit its window: other orbit
    window = np.array([[0, 1.0, 1.0, 1.0], [0, 1.0, 1.0, 1.0], [0, 1.0, 1.0, 1.0], [0, 1.0, 1.0, 0.1]])
    same = np.array([[0, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], bool)
    other = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], bool)
    kind, relay = links.algorithm4(need, window, same, other, "min")
    assert kind.tolist() == [links.SAME_ORBIT, links.OTHER_ORBIT, links.NONE, links.OTHER_ORBIT]
    assert relay.tolist() == [1, 2, -1, 2]  # task 3: satellite 3 is faster but its window (0.1 s) is too short
    kind, relay = links.algorithm4(need, window, same, other, "max")
    assert relay.tolist() == [1, 3, -1, 2]


def _tiny(small_json, times, bits=1e6):
    d = copy.deepcopy(small_json)
    d["tasks"] = {
        "sat": [0] * len(times),
        "arrival_s": list(times),
        "data_bits": [bits] * len(times),
        "slots": [1] * len(times),
    }
    return PROBLEM.load_instance(d)


def test_evaluate_hand_worked_latencies(small_json):
    inst = _tiny(small_json, [0.0, 0.1, 5.0])
    m = model_of(inst)
    c_local = 32 * 24.9e-3  # Snapdragon 8 Gen 1, 32 images
    ev = PROBLEM.evaluate(inst, PROBLEM.local_decision(inst))
    # FIFO on board: the second task waits for the first
    assert ev.details["mean_latency_s"][0] == pytest.approx((c_local + (2 * c_local - 0.1) + c_local) / 3)
    assert ev.objective[0] == 0.0 and ev.feasible[0]
    ev = PROBLEM.evaluate(inst, m.decision_from_targets(np.array([-1, 0, -1])))
    up, back = 1e6 / (10e6 * 0.99), 8000 / (10e6 * 0.99)
    assert ev.details["mean_latency_s"][0] == pytest.approx((2 * c_local + up + 0.32 + back) / 3)
    assert ev.details["mean_delivery_s"][0] == pytest.approx(up)
    x = 0.5 * (c_local - 0.32 - up - back) + 0.5 * (0.752 - 0.72)
    assert -ev.objective[0] == pytest.approx(x) == pytest.approx(m.benefit[1])


def test_load_and_linking_violations(small_json):
    inst = _tiny(small_json, [0.0, 0.2, 0.4, 0.6, 3.0])
    m = model_of(inst)
    # two tasks on container 0 in round 0: load 2/4 = p, allowed; three: 3/4 > 0.5
    ok = PROBLEM.evaluate(inst, m.decision_from_targets(np.array([0, 0, 1, -1, 0])))
    assert ok.feasible[0], ok.violations[0]
    assert ok.details["max_container_load"][0] == pytest.approx(0.5)
    bad = PROBLEM.evaluate(inst, m.decision_from_targets(np.array([0, 0, 0, -1, -1])))
    assert bad.violations[0] == ["container_load"] and bad.objective[0] == np.inf
    dec = m.decision_from_targets(np.array([0, -1, -1, -1, -1]))
    dec["server"][0] = [0, 1, 0]  # the LBS says server 1 but the container is on server 0
    assert PROBLEM.evaluate(inst, dec).violations[0] == ["linking"]


def test_tasks_still_running_count_in_later_rounds(small_json):
    # c(m_e) = 0.32 s: a task sent at 0.9 s reaches the container after ~0.1 s and runs into round 1
    inst = _tiny(small_json, [0.9, 1.0, 1.1])
    m = model_of(inst)
    sim = m.simulate(np.array([0, 0, 0]))
    load, _ = m.round_loads(np.array([0, 0, 0]), sim)
    assert load[0, 0] == pytest.approx(0.25) and load[1, 0] == pytest.approx(0.75)


def test_offload_without_path_is_infeasible(paper_json):
    inst = PROBLEM.load_instance(paper_json)
    m = model_of(inst)
    n = int(np.flatnonzero(~m.reachable)[0])
    target = np.full(inst.n_tasks, -1)
    target[n] = 0
    assert PROBLEM.evaluate(inst, m.decision_from_targets(target)).violations[0] == ["offload_without_path"]
    # tasks inside the aligned pass of satellite 0 are reachable directly
    assert np.any(m.paths.kind[inst.task_sat == 0] == links.DIRECT)


def _windowed(small_json, windows, times, bits, **params):
    # hand-made windows contradict the TLEs (the loader rejects them): they replace the loaded ones
    d = copy.deepcopy(small_json)
    d["params"].update(contact_model="orbits", **params)
    d["tasks"] = {
        "sat": [0] * len(times),
        "arrival_s": list(times),
        "data_bits": [bits] * len(times),
        "slots": [1] * len(times),
    }
    cols = {k: np.array([w[k] for w in windows]) for k in ("sat", "station", "start_s", "end_s")}
    return dataclasses.replace(PROBLEM.load_instance(d), windows=Windows(**cols))


@pytest.mark.parametrize("return_results, kind", [(False, links.DIRECT), (True, links.NONE)])
def test_algorithm4_case_one_and_two(small_json, return_results, kind):
    # 0.6 s left in satellite 0's window; raw data 5 Mbit: up = 5e6 / (10e6 * 0.99) = 0.505 s fits (Case II),
    # but with the result back (0.0008 s) and c(m_e) = 0.32 s the need is 0.826 s (Case I): no other window, local
    win = [{"sat": 0, "station": 0, "start_s": 0.0, "end_s": 10.0}]
    inst = _windowed(small_json, win, [9.4], 5e6, return_results=return_results)
    paths = model_of(inst).paths
    assert paths.kind.tolist() == [kind]
    assert paths.window_s[0] == pytest.approx(0.6)
    assert paths.up_s[0] == pytest.approx(5e6 / 9.9e6)


def test_relay_uses_the_relay_window_and_the_isl_rate(small_json):
    k = len(small_json["tle"])
    win = [{"sat": 0, "station": 0, "start_s": 0.0, "end_s": 10.0}] + [
        {"sat": j, "station": 0, "start_s": 0.0, "end_s": 170.0} for j in range(1, k)
    ]
    inst = _windowed(small_json, win, [9.4, 100.0], 5e6, isl_max_range_km=20000.0)
    paths = model_of(inst).paths
    relayed = paths.kind >= links.SAME_ORBIT
    assert relayed.any()  # at least one of the two tasks finds a satellite in sight with a window
    for n in np.flatnonzero(relayed):
        j = paths.relay[n]
        assert j != 0 and paths.window_s[n] == pytest.approx(170.0 - inst.task_t[n])
        # the ISL (100 Mbps, window 4 Mbit over at most ~100 ms RTT) is faster than the ground link: l binds
        assert paths.up_s[n] == pytest.approx(5e6 / (10e6 * 0.999 * 0.99))


def _fifo_loop(queue, arrival, servers, service):
    """Reference: per queue, each task (FIFO by arrival) starts on the earliest free of its queue's servers."""
    out = np.empty(len(queue))
    free = {q: [0.0] * servers[q] for q in set(queue)}
    for n in sorted(range(len(queue)), key=lambda n: (queue[n], arrival[n], n)):
        cores = free[queue[n]]
        j = int(np.argmin(cores))
        start = max(cores[j], arrival[n])
        cores[j] = out[n] = start + service
    return out


@given(
    st.lists(st.tuples(st.integers(0, 2), st.floats(0, 5)), min_size=1, max_size=30),
    st.lists(st.integers(1, 4), min_size=3, max_size=3),
)
@settings(max_examples=40, deadline=None)
def test_fifo_multi_with_a_server_count_per_queue_matches_a_loop(tasks, servers):
    queue = np.array([q for q, _ in tasks])
    arrival = np.array([a for _, a in tasks])
    got = fifo_multi(queue, arrival, np.array(servers), 0.7)
    assert got == pytest.approx(_fifo_loop(queue, arrival, servers, 0.7))
