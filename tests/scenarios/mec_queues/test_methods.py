"""Solvers of mec-queues (closed loop), the greedy oracle on hand-worked states, records and rewards."""

from __future__ import annotations

import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401  (registers the scenario and solvers)
from offloadlab.core.errors import InputError
from offloadlab.core.registry import get_solver, solvers_for
from offloadlab.scenarios.mec_queues import comllm, oracles
from offloadlab.scenarios.mec_queues.dataset import build_records, chat_messages, make_reward_function
from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import parse_input

SOLVERS = ["random", "local", "round-robin", "least-loaded", "greedy-oracle", "comllm-oracle", "lookahead-oracle"]


@pytest.fixture(scope="module")
def inst():
    return PROBLEM.load_instance(PROBLEM.make_instance(2, "comllm", devices=5, servers=3, slots=25))


def test_registered_with_budget_units():
    table = solvers_for("mec-queues")
    assert set(SOLVERS) <= set(table)
    assert all(table[n].budget_unit == "none" for n in SOLVERS)


@pytest.mark.parametrize("name", SOLVERS)
def test_solver_result_replays_through_evaluate(inst, name):
    res = get_solver("mec-queues", name).fn(PROBLEM, inst, None, np.random.default_rng(0))
    ev = PROBLEM.evaluate(inst, res.decision)
    assert res.objective == pytest.approx(ev.objective[0]) and res.feasible
    assert set(res.details) >= {"mean_delay_slots", "mean_delay_s", "drop_rate", "jain_work"}
    assert res.details["mean_delay_s"] == pytest.approx(res.objective * 0.1)


def test_oracles_beat_random_and_local(inst):
    def run(n: str) -> float:
        return get_solver("mec-queues", n).fn(PROBLEM, inst, None, np.random.default_rng(0)).objective

    greedy = run("greedy-oracle")
    assert greedy < run("random") and greedy < run("local") and run("comllm-oracle") < run("local")


def test_round_robin_cycles(inst):
    res = get_solver("mec-queues", "round-robin").fn(PROBLEM, inst, None, np.random.default_rng(0))
    acts = np.asarray(res.decision["actions"])[inst.arrivals > 0]
    assert acts.tolist() == [(k % 3) + 1 for k in range(acts.size)]


def test_lookahead_rejects_bad_options(inst):
    with pytest.raises(InputError, match="option rollouts"):
        get_solver("mec-queues", "lookahead-oracle").fn(PROBLEM, inst, None, np.random.default_rng(0), rollouts=0)


def test_greedy_delays_hand_worked():
    # one device, one 41.8 GHz server, 2.0 Mbit at slot 0: local 3 slots; offload 2 upload slots + 1 server slot = 3;
    # tie -> the lowest id (local)
    p = make_params("tang-wong", devices=1, servers=1, slots=1)
    sim = QueueSim(p, np.array([[2.0]]))
    assert oracles.greedy_delays(sim, np.zeros(1, dtype=np.int64), 0).tolist() == [3.0, 3.0]
    assert oracles.greedy_oracle_actions(sim).tolist() == [0]
    # 9 Mbit: local is dropped (counted 2 D = 20); upload 7 slots + 1 server slot = 8
    sim = QueueSim(p, np.array([[9.0]]))
    assert oracles.greedy_delays(sim, np.zeros(1, dtype=np.int64), 0).tolist() == [20.0, 8.0]


def test_greedy_sees_earlier_devices_of_the_same_slot():
    # server of 1 Mbit/slot, 1.4 Mbit tasks uploaded in slot 0. Device 1 alone: 1.0 + 0.4 in slots 1-2 (delay 3);
    # after device 0 chose the same server: 0.5 each per slot, slots 1-3 (delay 4)
    p = make_params("tang-wong", devices=2, servers=1, slots=1, server_ghz=[2.97], device_ghz=0.5)
    sim = QueueSim(p, np.array([[1.4, 1.4]]))
    alone = oracles.greedy_delays(sim, np.zeros(2, dtype=np.int64), 0)
    shared = oracles.greedy_delays(sim, np.array([1, 0]), 1)
    assert alone[1] == 3.0  # upload slot 0, server slots 1 (1.0) and 2 (0.4)
    assert shared[1] == 4.0  # with device 0 on the server: 0.5 per slot from slot 1 -> slots 1, 2, 3


def _played(inst, slots: int, copies: int) -> tuple[QueueSim, list[QueueSim]]:
    """``copies`` copies of ``inst`` played ``slots`` slots with different random actions, as one batched
    simulator and as one one-copy simulator per copy (same actions)."""
    batch = QueueSim(inst.params, np.repeat(inst.arrivals[None], copies, axis=0))
    ones = [QueueSim(inst.params, inst.arrivals) for _ in range(copies)]
    rng = np.random.default_rng(3)
    for _ in range(slots):
        acts = rng.integers(0, inst.params.servers + 1, (copies, batch.D))
        batch.step(acts)
        for b, one in enumerate(ones):
            one.step(acts[b])
    return batch, ones


@pytest.mark.parametrize("slots", [4, 9, 14])
def test_batched_oracles_decide_each_copy_as_the_one_copy_rules(inst, slots):
    sim, ones = _played(inst, slots, copies=3)
    label, greedy = oracles.comllm_oracle_batch(sim), oracles.greedy_oracle_batch(sim)
    for b, one in enumerate(ones):
        assert label[b].tolist() == oracles.comllm_oracle_actions(one).tolist()
        assert greedy[b].tolist() == oracles.greedy_oracle_actions(one).tolist()
    assert (label[:, sim.arr[0, sim.t] == 0] == 0).all()  # no task, no decision
    backlog = sim.server_backlog_mbit().sum(axis=1) + sim.upload_backlog_by_server()
    assert len({backlog[b].round(9).tobytes() for b in range(3)}) == 3  # the copies' states differ


@pytest.mark.parametrize("policy", ["comllm-oracle", "least-loaded"])
def test_lookahead_is_at_least_as_good_as_its_rollout_policy(policy):
    # fixed small instances: each task tries every action in rollouts continued by ``policy``, so playing the
    # argmin cannot lose to playing ``policy`` itself by more than the sampling noise (here: not at all)
    for seed in (0, 1):
        inst = PROBLEM.load_instance(PROBLEM.make_instance(seed, "comllm", devices=5, servers=3, slots=10))
        base = get_solver("mec-queues", policy).fn(PROBLEM, inst, None, np.random.default_rng(seed)).objective
        look = get_solver("mec-queues", "lookahead-oracle").fn(
            PROBLEM, inst, None, np.random.default_rng(seed), rollout_policy=policy
        )
        assert look.stats["rollout_policy"] == policy
        assert look.objective <= base


def test_records_and_reward_function(inst):
    recs = build_records(inst, "comllm-oracle", limit=6)
    assert len(recs) == 6 and set(recs[0]) == {"instruction", "input", "output"}
    for r in recs:
        state = parse_input(r["input"])
        assert comllm.parse_action(r["output"]["action_name"]) == comllm.comllm_oracle(state)
    greedy = build_records(inst, "greedy-oracle", behaviour="random", limit=4)
    assert len(greedy) == 4
    fn = make_reward_function("grpo")
    prompts = [chat_messages(parse_input(r["input"])) for r in recs[:2]] + ["no state here"]
    got = fn(prompts, [[{"content": recs[0]["output"]["action_name"]}], "local", "local"])
    s0 = parse_input(recs[0]["input"])
    assert got[0] == pytest.approx(comllm.reward(recs[0]["output"]["action_name"], s0, "grpo", np.random.default_rng()))
    assert got[2] == -10.0
