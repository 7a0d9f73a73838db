"""Methods: corrected decomposition vs the LP, the literal version, messages, reference and baselines."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference import solvers
from offloadlab.methods.leo_inference.baselines import central_policy
from offloadlab.methods.leo_inference.dual import (
    DualOptions,
    Multipliers,
    decompose,
    messages_per_iteration,
    relaxed_objective,
    round_relaxed,
)
from offloadlab.methods.leo_inference.reference import solve_round
from offloadlab.methods.leo_inference.rounds import RoundLog, RoundProblem, greedy_assign
from offloadlab.scenarios.leo_inference.problem import PROBLEM

RNG = np.random.default_rng(0)
DEFAULT = DualOptions()


SOLVERS = {
    "leoedge": solvers.solve_leoedge,
    "reference": solvers.solve_reference,
    "threshold": solvers.solve_threshold,
    "workload": solvers.solve_workload,
    "local-only": solvers.solve_local,
    "central": solvers.solve_central,
}


def _solve(name, inst, **opts):
    # called directly, not through the registry: loading every plug-in is not this test's business
    return SOLVERS[name](PROBLEM, inst, None, np.random.default_rng(0), **opts)


@st.composite
def rounds(draw):
    n = draw(st.integers(1, 12))
    s, k, slots = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    p = draw(st.sampled_from([0.5, 0.75, 1.0]))
    seed = draw(st.integers(0, 10**6))
    rng = np.random.default_rng(seed)
    q = rng.integers(0, int(np.floor(p * slots)) + 1, s * k).astype(float)  # a state a feasible schedule reaches
    return RoundProblem(np.arange(n), rng.uniform(0.01, 0.2, n), rng.integers(0, 4, n), q, s, k, slots, p)


@settings(max_examples=15, deadline=None)
@given(rounds())
def test_corrected_decomposition_stops_by_its_rule_within_tolerance_of_the_lp(rp):
    lp, _, _ = solve_round(rp, relax=True)
    res = decompose(rp, DEFAULT, Multipliers())
    assert res.converged and res.iterations < DEFAULT.max_iter
    assert abs(res.gap[-1]) <= DEFAULT.tol and res.final_violation <= DEFAULT.tol_violation
    relaxed = relaxed_objective(rp.benefit, res.y1, res.y3)
    # the gap certifies the relaxed value against the dual bound, so it is within tol of the LP (plus the
    # benefit of the residual, at most tol_violation slots of the largest benefit)
    slack = DEFAULT.tol_violation * float(rp.benefit.max(initial=0.0))
    assert relaxed >= (1 - DEFAULT.tol) * lp - slack - 1e-9
    assert relaxed <= lp + slack + 1e-9
    # the rounded decision respects every room
    tgt = round_relaxed(rp, res)
    used = np.bincount(tgt[tgt >= 0], minlength=rp.q.size)
    assert np.all(used <= rp.room) and used.sum() <= rp.cluster_room


@settings(max_examples=10, deadline=None)
@given(rounds())
def test_literal_equations_never_offload(rp):
    res = decompose(rp, DualOptions(literal=True, max_iter=100), Multipliers())
    assert np.all(res.y1 == 0.0)
    assert np.all(round_relaxed(rp, res) == -1)


def test_milp_equals_greedy_and_lp_bounds_it():
    for _ in range(10):
        n = int(RNG.integers(1, 15))
        rp = RoundProblem(
            np.arange(n),
            RNG.uniform(0.01, 0.2, n),
            RNG.integers(0, 4, n),
            RNG.integers(0, 2, 6).astype(float),
            2,
            3,
            3,
            0.75,
        )
        ip, y1, y3 = solve_round(rp)
        lp, _, _ = solve_round(rp, relax=True)
        greedy = central_policy(rp, RoundLog())
        assert ip == pytest.approx(rp.benefit[greedy >= 0].sum())
        assert lp >= ip - 1e-9
        assert np.allclose(y3.sum(1), y1)


def test_messages_on_a_hand_countable_round():
    # 3 tasks from 2 satellites, 1 server with 2 containers, 3 iterations:
    # satellite-LBS 2 sats x 2 directions x 3 = 12; LBS-server 1 x 2 x 3 = 6; server-container 2 x 2 x 3 = 12
    rp = RoundProblem(np.arange(3), np.array([0.1, 0.05, 0.02]), np.array([4, 4, 7]), np.zeros(2), 1, 2, 4, 0.5)
    per = messages_per_iteration(rp)
    assert per == {"satellite-LBS": 4, "LBS-server": 2, "server-container": 4}
    res = decompose(rp, DualOptions(max_iter=3), Multipliers())
    assert res.iterations == 3


def test_solver_counts_messages_like_the_rule(small_json):
    d = copy.deepcopy(small_json)
    d["tasks"] = {"sat": [0, 0, 1], "arrival_s": [0.1, 0.2, 0.3], "data_bits": [1e6] * 3, "slots": [1] * 3}
    inst = PROBLEM.load_instance(d)
    res = _solve("leoedge", inst, max_iter=3)
    assert res.stats["messages"] == {"satellite-LBS": 12, "LBS-server": 18, "server-container": 72}  # S=3, O=12
    assert res.stats["rounds"] == 1 and res.feasible


def test_solvers_on_a_small_instance(small_json):
    inst = PROBLEM.load_instance(small_json)
    ref = _solve("reference", inst)
    assert ref.feasible and ref.stats["lp_objective"] >= ref.stats["milp_objective"] - 1e-9
    assert -ref.objective == pytest.approx(ref.stats["milp_objective"])
    dd = _solve("leoedge", inst)
    assert dd.feasible and dd.objective <= 0.99 * ref.objective  # minus benefit: within 1 % of the optimum
    assert dd.stats["relaxed_objective"] >= 0.99 * ref.stats["lp_objective"]
    assert dd.stats["cap_hits"] == 0 and dd.stats["max_iterations"] < DEFAULT.max_iter
    lit = _solve("leoedge", inst, literal=True)
    assert lit.details["offload_fraction"] == 0.0 and lit.objective == 0.0
    central = _solve("central", inst)
    assert central.objective == pytest.approx(ref.objective)
    assert sum(central.stats["messages"].values()) < sum(dd.stats["messages"].values())
    assert _solve("workload", inst).feasible
    assert _solve("local-only", inst).objective == 0.0


def test_threshold_depends_on_which_latency_feeds_local_execution():
    fast = PROBLEM.load_instance(
        PROBLEM.make_instance(2, "default", hours=0.02, contact_model="always", local_model="adapted")
    )
    slow = PROBLEM.load_instance(PROBLEM.make_instance(2, "default", hours=0.02, contact_model="always"))
    assert _solve("threshold", fast).details["offload_fraction"] == 0.0  # adapted models are all under 20 ms
    assert _solve("threshold", slow).details["offload_fraction"] == 1.0  # Table II without: all above 20 ms


def test_relay_option_and_option_validation():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(1, "default", hours=0.25))
    with_relay = _solve("central", inst)
    without = _solve("central", inst, use_relay=False)
    assert with_relay.details["relayed"] > 0 and without.details["relayed"] == 0
    assert with_relay.objective <= without.objective
    with pytest.raises(InputError):
        _solve("leoedge", inst, step_scale=0.0)
    with pytest.raises(InputError):
        _solve("workload", inst, max_load=1.5)


@pytest.mark.parametrize("seed", [0, 2])
def test_heterogeneous_preset_has_a_fractional_lp_and_the_decomposition_converges_on_it(seed):
    inst = PROBLEM.load_instance(PROBLEM.make_instance(seed, "heterogeneous", hours=0.05))
    assert inst.task_slots.min() == 1 and inst.task_slots.max() == 3
    dd = _solve("leoedge", inst, with_reference=True)
    lp, ip = dd.stats["round_lp"], dd.stats["round_milp"]
    assert lp > ip * 1.01  # tasks of several sizes into containers of several sizes: the LP is fractional
    assert dd.stats["cap_hits"] == 0 and dd.stats["max_iterations"] < DEFAULT.max_iter
    assert dd.stats["relaxed_objective"] >= 0.99 * lp
    # the rounding rule against the MILP on the same rounds (before satellites hold tasks that would miss
    # their window, which the round problem does not model)
    assert dd.stats["round_rounded"] >= 0.99 * ip
    assert dd.feasible and -dd.objective <= dd.stats["round_rounded"] + 1e-9


def test_greedy_assign_respects_slot_demands():
    # one server, containers of 2 and 4 slots at p = 1: tasks of 3, 2, 2 slots; the 3 fits only the 4-slot one
    rp = RoundProblem(
        np.arange(3),
        np.array([0.3, 0.2, 0.1]),
        np.zeros(3, int),
        np.zeros(2),
        1,
        2,
        np.array([2, 4]),
        1.0,
        np.array([3, 2, 2]),
    )
    out = greedy_assign(rp, np.arange(3))
    assert out.tolist() == [1, 0, -1]
    lp, _, _ = solve_round(rp, relax=True)
    ip, _, _ = solve_round(rp)
    assert ip == pytest.approx(0.5) and lp == pytest.approx(0.5 + 0.1 * 0.5)  # the third task half placed


def test_threshold_baseline_overloads_where_the_decomposition_does_not():
    # heavy arrivals into small containers: the threshold baseline ignores the load and breaks the limit
    inst = PROBLEM.load_instance(PROBLEM.make_instance(0, "heterogeneous", hours=0.05))
    thr = _solve("threshold", inst)
    assert not thr.feasible and "container_load" in thr.details["violations"]
    assert thr.details["max_container_load"] > inst.params.load_threshold
    dd = _solve("leoedge", inst)
    assert dd.feasible and dd.details["max_container_load"] <= inst.params.load_threshold + 1e-9
