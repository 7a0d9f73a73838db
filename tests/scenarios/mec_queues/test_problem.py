"""Instances, presets, strict loading and the evaluate contract of mec-queues."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.scenarios.mec_queues.problem import PROBLEM


def test_make_instance_contract():
    data = PROBLEM.make_instance(7, "tang-wong", devices=4, servers=2, slots=12)
    assert set(data) == {"scenario", "params", "arrivals_mbit"} and data["scenario"] == "mec-queues"
    arr = np.array(data["arrivals_mbit"])
    assert arr.shape == (12, 4)
    assert np.all((arr == 0) | ((arr >= 2) & (arr <= 5)))
    assert data["params"]["server_ghz"] == [41.8, 41.8]
    assert json.loads(json.dumps(data)) == data
    assert data == PROBLEM.make_instance(7, "tang-wong", devices=4, servers=2, slots=12)


def test_comllm_preset_cycles_server_types():
    p = PROBLEM.make_instance(0, "comllm", servers=11)["params"]
    assert p["server_ghz"] == [41.8, 30.0, 22.0] * 3 + [41.8, 30.0]
    assert p["server_type"][:3] == ["high-performance", "standard", "energy-saving"]
    assert PROBLEM.make_instance(0, "comllm")["params"]["servers"] == 6


def test_tang_wong_preset_values():
    p = PROBLEM.make_instance(0, "tang-wong")["params"]
    assert (p["devices"], p["servers"], p["slots"], p["drain_slots"], p["deadline_slots"]) == (50, 5, 100, 10, 10)
    rates = (p["device_ghz"], p["uplink_mbps"], p["density_gcycles_per_mbit"], p["arrival_prob"])
    assert rates == (2.5, 14, 0.297, 0.3)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d["params"].pop("deadline_slots"), "params.deadline_slots"),
        (lambda d: d["params"].update(servers="2"), "params"),
        (lambda d: d.pop("arrivals_mbit"), "arrivals_mbit"),
        (lambda d: d["arrivals_mbit"].pop(), "arrivals_mbit"),
        (lambda d: d["arrivals_mbit"][1].__setitem__(2, float("nan")), "arrivals_mbit[1][2]"),
        (lambda d: d["arrivals_mbit"][0].__setitem__(0, -1.0), "arrivals_mbit[0][0]"),
        (lambda d: d["arrivals_mbit"][0].__setitem__(0, "3"), "arrivals_mbit"),
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(scenario="satellite-mec"), "scenario"),
        (lambda d: d["params"].update(server_ghz=[41.8]), "params"),
    ],
)
def test_load_instance_is_strict(mutate, field):
    data = copy.deepcopy(PROBLEM.make_instance(1, "comllm", devices=3, servers=2, slots=5))
    mutate(data)
    with pytest.raises(InputError) as err:
        PROBLEM.load_instance(data)
    assert err.value.field.startswith(field)


def test_evaluate_contract_and_hand_value():
    data = PROBLEM.make_instance(0, "tang-wong", devices=1, servers=1, slots=2)
    data["arrivals_mbit"] = [[2.0], [0.0]]
    inst = PROBLEM.load_instance(data)
    rep = PROBLEM.evaluate(inst, {"actions": [[0], [7]]}).report(0)  # 7 ignored: no task in slot 1
    assert set(rep) == {"feasible", "violations", "delay_slots", "dropped", "mean_delay_slots", "drop_rate"}
    assert rep["delay_slots"] == [[3.0], [None]] and rep["dropped"] == [[False], [False]]
    assert rep["mean_delay_slots"] == 3.0 and rep["drop_rate"] == 0.0 and rep["feasible"]


def test_evaluate_rejects_bad_actions():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(0, "comllm", devices=2, servers=3, slots=4, arrival_prob=1.0))
    with pytest.raises(InputError, match=r"decision.actions\[0\]\[1\]"):
        PROBLEM.evaluate(inst, {"actions": [[0, 4]] + [[0, 0]] * 3})
    with pytest.raises(InputError, match="shape"):
        PROBLEM.evaluate(inst, {"actions": [[0, 0]]})
    with pytest.raises(InputError, match="missing"):
        PROBLEM.evaluate(inst, {})


def test_offloading_beats_local_on_tang_wong():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(3, "tang-wong", devices=10, slots=30))
    local = PROBLEM.evaluate(inst, PROBLEM.local_decision(inst)).objective[0]
    spread = np.tile(np.arange(10) % 5 + 1, (30, 1))
    assert PROBLEM.evaluate(inst, {"actions": spread}).objective[0] < local


@pytest.mark.parametrize("servers", ["abc", 1e30, 10**30, 0, True])
def test_a_bad_server_count_is_named_before_any_list_is_built(servers):
    with pytest.raises(InputError, match="servers"):
        PROBLEM.make_instance(0, "comllm", servers=servers)
