"""Honest counting: every answer that had to be changed is counted as repaired, with the field and the
amount, in the LLM optimizer and in llm-icl alike; a run whose answers were all repaired says so."""

from __future__ import annotations

import json

import numpy as np

from offloadlab.llm.loop import answer_status
from offloadlab.methods.dt_vehicular.icl import collect_cases, run_icl
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM as DT
from tests.llm.conftest import ScriptedBackend, targets
from tests.llm.test_optimizer import POWER, run


def local_policy(state):
    """Everything computed locally (a fallback and case source that needs no training)."""
    shape = np.asarray(state.task_bytes).shape
    return np.zeros(shape), np.zeros(shape)


def test_llm_icl_counts_clipped_answers_as_repaired_with_field_and_amount():
    inst = DT.load_instance(DT.make_instance(4, "default", N=2, K=2, slots=3))
    cases = collect_cases(inst.params, local_policy, np.random.default_rng(1), episodes=1)
    # omega -103 % and 279 %: clipped to 0 and 100 (by 103 and 179); alpha within capacity
    clipped = json.dumps({"omega_pct": [[-103, 279], [50, 50]], "alpha_permille": [[100, 100], [100, 100]]})
    backend = ScriptedBackend([clipped] * 3)
    res = run_icl(DT, inst, np.random.default_rng(3), backend, cases, local_policy, neighbours=1, grow_cases=False)
    st = res.stats
    assert st["llm_calls"] == 3 and st["usable_answers"] == 3 and st["fallbacks"] == 0
    assert st["repaired"] == 3 and st["invalid_outputs"] == 0
    assert st["repairs"]["clipped omega_pct"] == {"answers": 3, "values": 6, "max_amount": 179.0}
    assert st["answer_status"] == "all 3 usable answers repaired"


def test_llm_icl_unusable_answers_are_counted_with_the_repaired_ones():
    inst = DT.load_instance(DT.make_instance(4, "default", N=2, K=2, slots=2))
    cases = collect_cases(inst.params, local_policy, np.random.default_rng(1), episodes=1)
    good = json.dumps({"omega_pct": [[10, 20], [30, 40]], "alpha_permille": [[100, 100], [100, 100]]})
    backend = ScriptedBackend([good, "not json"])
    res = run_icl(DT, inst, np.random.default_rng(3), backend, cases, local_policy, neighbours=1, grow_cases=False)
    st = res.stats
    assert st["repaired"] == 0 and st["invalid_by_kind"] == {"not_json": 1} and st["fallbacks"] == 1
    assert st["answer_status"] == "all 1 usable answers used as written; 1 unusable"


def test_llm_optimizer_counts_every_clip_and_says_when_all_answers_were_repaired(inst354):
    over = targets([1, 2, 2, 2, 1], [[0, 0.5, 0.01, 0], *POWER[1:]])  # 500 mW > 200 mW: clipped, renormalised
    res, _, _ = run(inst354, [over, over], iterations=2, patience=5)
    st = res.stats
    assert st["repaired"] == st["usable_answers"] == 2
    assert st["repairs"]["clipped power_mw"] == {"answers": 2, "values": 2, "max_amount": 300.0}
    assert st["repairs"]["renormalised power_w"]["answers"] == 2
    assert st["answer_status"] == "all 2 usable answers repaired"


def test_answer_status_lines():
    assert answer_status(0, 0, 4) == "no usable answer (4 unusable)"
    assert answer_status(5, 2, 0) == "2 of 5 usable answers repaired"
    assert answer_status(5, 5, 1) == "all 5 usable answers repaired; 1 unusable"
