"""The paper layer of mec-queues: both worlds in every Result, the open-loop test set, pooling, the claims on
synthetic stored runs (agreeing and disagreeing cases), the specs and the drawers."""

from __future__ import annotations

import json
from typing import Any

import matplotlib.figure
import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401  (registers the scenario, solvers and paper)
from offloadlab.core.registry import get_paper, get_solver
from offloadlab.experiments.analysis import Experiment, Record
from offloadlab.experiments.claims import AGREES, DISAGREES, NOT_MEASURED, PARTLY
from offloadlab.experiments.plan import expand
from offloadlab.experiments.spec import load_spec
from offloadlab.methods.mec_queues.episode import run_policy
from offloadlab.methods.mec_queues.openloop import decision_slots, open_loop, score
from offloadlab.papers.mec_queues import claims as mc
from offloadlab.papers.mec_queues.data import markdown_table, min_delay_slots, pool_open, rows
from offloadlab.papers.mec_queues.figures import DRAWERS
from offloadlab.scenarios.mec_queues import oracles
from offloadlab.scenarios.mec_queues.dataset import build_records
from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import format_input, state_from_params

PAPER = get_paper("mec-queues")


@pytest.fixture(scope="module")
def inst():
    return PROBLEM.load_instance(PROBLEM.make_instance(3, "comllm", devices=6, servers=3, slots=30))


# -- both worlds in the Result -------------------------------------------------------------------------------


def test_open_loop_test_set_is_the_records_states(inst):
    states = [format_input(s) for _, _, slot_states in decision_slots(inst) for s in slot_states]
    assert states == [r["input"] for r in build_records(inst)]  # the LLM rows' test set is the same


def test_label_oracle_is_100_percent_in_the_open_loop(inst):
    ol = open_loop(inst, oracles.comllm_oracle_actions)
    assert ol["performance_ratio_pct"] == pytest.approx(100.0)
    assert ol["mean_cost_slots"] == pytest.approx(ol["oracle_mean_cost_slots"])
    assert sum(ol["choice_counts"]) == ol["samples"] == (inst.arrivals[: inst.params.slots] > 0).sum()


@pytest.mark.parametrize("name", ["random", "round-robin", "greedy-oracle"])
def test_results_hold_both_worlds_and_the_closed_loop_objective_is_unchanged(inst, name):
    res = get_solver("mec-queues", name).fn(PROBLEM, inst, None, np.random.default_rng(5))
    assert res.details["world"].startswith("closed loop") and res.details["open_loop"]["world"].startswith("open")
    assert len(res.details["server_work_mbit"]) == 3
    assert PROBLEM.evaluate(inst, res.decision).objective[0] == pytest.approx(res.objective)
    if name == "random":  # the open-loop pass runs after the episode: same draws, same objective as closed alone
        rng = np.random.default_rng(5)
        alone = run_policy(inst, lambda sim: rng.integers(0, 4, size=sim.D), both_worlds=False)
        assert alone.objective == res.objective and "open_loop" not in alone.details


def test_score_removes_parse_failures_and_prices_absent_servers():
    p = make_params("comllm", servers=2)
    s = state_from_params(p, 2.0, 0.0, 0.0, [0, 0], [0.0, 0.0])
    out = score([s, s, s], [None, 7, 0], servers=2)
    assert out["parse_failures"] == 1 and out["samples"] == 3
    local = 2.0 / (2.5 * 0.1 / 0.297)  # 2.376 slots
    assert out["mean_cost_slots"] == pytest.approx((5.0 + local) / 2)  # server 7 is absent: the authors' 5.0
    assert out["choice_counts"] == [1, 0, 0]


# -- stored-run arithmetic -----------------------------------------------------------------------------------


def test_pool_open_jain_both_variants_hand_worked():
    d = {
        "samples": 3,
        "parse_failures": 0,
        "mean_cost_slots": 4.0,
        "oracle_mean_cost_slots": 3.0,
        "drop_rate_pct": 0.0,
        "choice_counts": [0, 2, 1, 0],
    }
    out = pool_open([{"open_loop": d}, {"open_loop": {**d, "mean_cost_slots": 2.0}}], servers=3)
    assert out["mean_cost_slots"] == pytest.approx(3.0) and out["performance_ratio_pct"] == pytest.approx(100.0)
    # counts [4, 2, 0]: n = highest id chosen (2): 36 / (2 x 20) = 0.9; n = S = 3: 36 / (3 x 20) = 0.6
    assert out["jain_max_id_pct"] == pytest.approx(90.0) and out["jain_servers_pct"] == pytest.approx(60.0)


@pytest.mark.parametrize("size, expected", [(2.0, 3), (5.0, 5)])
def test_min_delay_slots_matches_the_simulator(size, expected):
    # 2 Mbit: local 2.38 -> 3 slots, upload 1.43 -> 2 + 1 server slot = 3; 5 Mbit: local 5.94 -> 6, upload
    # 3.57 -> 4 + 1 = 5.
    p = make_params("comllm", devices=1, servers=1, slots=1, drain_slots=12, size_min_mbit=size, size_max_mbit=size)
    assert min_delay_slots(p.model_dump()) == expected
    best = []
    for action in (0, 1):
        sim = QueueSim(p, np.array([[size]]))
        sim.step(np.array([action]))
        while not sim.done:
            sim.step(np.array([0]))
        best.append(float(sim.delay[0, 0, 0]))
    assert min(best) == expected


# -- claims on synthetic stored runs -------------------------------------------------------------------------


def _details(delay: float, drop: float, work: list[float], cost: float, odrop: float, counts: list[int]) -> dict:
    n = sum(counts)
    return {
        "tasks": float(n),
        "mean_delay_slots": delay,
        "mean_delay_s": delay * 0.1,
        "drop_rate": drop,
        "jain_work": 0.0,
        "server_work_mbit": work,
        "open_loop": {
            "samples": float(n),
            "parse_failures": 0.0,
            "mean_cost_slots": cost,
            "oracle_mean_cost_slots": 3.0,
            "drop_rate_pct": odrop,
            "choice_counts": counts,
        },
    }


BALANCED = [0, 10, 10, 9, 10, 10, 11]  # choices of local, servers 1..6 (Jain over servers ~0.998)


def _experiment(figure: str, cases: dict[tuple[str, int], dict[str, Any]]) -> Experiment:
    recs = []
    for (solver, servers), det in cases.items():
        params = make_params("comllm", servers=servers).model_dump()
        row = {
            "status": "ok",
            "objective": det["mean_delay_slots"],
            "feasible": True,
            "wall_s": 1.0,
            "details_json": json.dumps(det),
            "stats_json": json.dumps({"training": {"env_steps": 220}} if solver == "dqn" else {}),
            "instance_params_json": json.dumps(params),
        }
        recs.append(
            Record(
                f"{solver}-{servers}", solver, solver, {}, {"servers": servers}, 0, 0, solver == "greedy-oracle", row
            )
        )
    return Experiment(f"synthetic_{figure}", figure, "synthetic", {"scenario": "mec-queues"}, recs)


def _baselines(servers: int) -> dict[tuple[str, int], dict[str, Any]]:
    work = [10.0] * servers
    counts = BALANCED if servers == 6 else [0] + [6] * servers
    return {
        ("random", servers): _details(6.1, 0.07, work, 5.5, 4.7, counts),
        ("dqn", servers): _details(5.0, 0.01, work, 5.1, 3.7, counts),
        ("greedy-oracle", servers): _details(4.7, 0.0, work, 5.2, 5.2, counts),
        ("comllm-oracle", servers): _details(5.0, 0.002, work, 3.0, 0.0, counts),
    }


def _by_paper(claims: list) -> dict[tuple[str, str], str]:
    return {(c.paper.split(" (")[0], c.measured.split("]")[0] + "]"): c.verdict for c in claims}


def test_without_llm_rows_only_the_unit_claim_is_decided():
    got = mc.check_claims([_experiment(mc.FIG_TABLE, {**_baselines(6), **_baselines(11)})])
    assert len(got) == 12
    decided = [c for c in got if c.verdict != NOT_MEASURED]
    assert len(decided) == 1 and decided[0].verdict == DISAGREES and "300 ms" in decided[0].measured
    assert all("comllm (LLM rows pending)" in c.measured for c in got if c.verdict == NOT_MEASURED)


def test_claims_agree_with_a_good_comllm_row():
    good = _details(4.8, 0.0, [10.0] * 6, 3.07, 0.0, BALANCED)
    got = _by_paper(mc.check_claims([_experiment(mc.FIG_TABLE, {**_baselines(6), ("comllm", 6): good})]))
    open_w, closed_w = "[open loop (authors' one-step formula, slots)]", "[closed loop (simulator)]"
    assert got[("Lowest average latency, outperforming DRL, heuristic and SFT baselines", open_w)] == AGREES
    assert got[("Lowest average latency, outperforming DRL, heuristic and SFT baselines", closed_w)] == AGREES
    assert got[("Zero task-drop rate across all tested topologies", open_w)] == AGREES
    assert got[("Average latency ≈ 3.07 ms", open_w)] == AGREES  # 3.07 read as slots of the formula
    assert got[("Average latency ≈ 3.07 ms", closed_w)] == DISAGREES  # below the simulator's 300 ms floor
    assert got[("Near-optimal latency", open_w)] == AGREES  # 3.0 / 3.07 = 97.7 % >= 95 %
    assert got[("Near-optimal latency", closed_w)] == AGREES  # 4.7 / 4.8 = 97.9 %


def test_a_figure_stored_twice_is_judged_once_by_the_experiment_with_comllm_rows():
    good = _details(4.8, 0.0, [10.0] * 6, 3.07, 0.0, BALANCED)
    baselines_only = _experiment(mc.FIG_TABLE, _baselines(6))
    with_llm = _experiment(mc.FIG_TABLE, {**_baselines(6), ("comllm", 6): good})
    got = mc.check_claims([baselines_only, with_llm])
    assert got == mc.check_claims([with_llm])  # the claims once, from the store that has the method's rows
    assert len(got) == len(mc.check_claims([baselines_only]))


def test_claims_disagree_with_a_poor_comllm_row():
    poor = _details(7.0, 0.05, [50.0, 10.0, 0, 0, 0, 0], 6.0, 8.0, [0, 50, 10, 0, 0, 0, 0])
    got = _by_paper(mc.check_claims([_experiment(mc.FIG_TABLE, {**_baselines(6), ("comllm", 6): poor})]))
    assert set(got.values()) == {DISAGREES}
    # Jain 0.87: choices 30, 20, 10 on servers 1-3 of 6 give 3600 / (3 x 1400) = 0.857 with the authors' n =
    # highest id chosen (agrees within 0.03) but 3600 / (6 x 1400) = 0.429 with n = S
    jain = [
        c
        for c in mc.check_claims(
            [
                _experiment(
                    mc.FIG_TABLE, {("comllm", 6): _details(5.0, 0.0, [10.0] * 6, 4.0, 0.0, [0, 30, 20, 10, 0, 0, 0])}
                )
            ]
        )
        if c.paper.startswith("Jain")
    ]
    assert jain[0].verdict == AGREES and "COMLLM 0.857 (n = S: 0.429)" in jain[0].measured


def test_zero_shot_claim_per_server_count():
    base = {**_baselines(6), **_baselines(11), ("comllm", 6): _details(4.8, 0.0, [10.0] * 6, 3.2, 0.0, BALANCED)}
    keeps = _details(4.9, 0.0, [10.0] * 11, 3.3, 0.0, [0] + [6] * 11)
    fails = _details(6.5, 0.1, [10.0] * 11, 5.9, 9.0, [0] + [6] * 11)
    ok = mc.check_claims([_experiment(mc.FIG_ZEROSHOT, {**base, ("comllm", 11): keeps})])
    bad = mc.check_claims([_experiment(mc.FIG_ZEROSHOT, {**base, ("comllm", 11): fails})])
    assert [c.verdict for c in ok] == [AGREES, AGREES] and [c.verdict for c in bad] == [DISAGREES, DISAGREES]
    assert "dqn trained at S = 6: not applicable without retraining" in ok[0].measured
    mixed = {**base, ("comllm", 11): keeps, ("comllm", 16): fails, **_baselines(16)}
    assert mc.check_claims([_experiment(mc.FIG_ZEROSHOT, mixed)])[0].verdict == PARTLY


# -- specs, table and drawers --------------------------------------------------------------------------------


def test_specs_are_valid_and_the_zero_shot_specs_reuse_the_table_runs():
    assert not set(PAPER.specs) & set(PAPER.quick_specs)
    specs = {p.name: load_spec(p) for p in [*PAPER.spec_paths(False), *PAPER.spec_paths(True)]}
    assert all(s.scenario == "mec-queues" for s in specs.values())
    for table, zero in (
        ("mecq_comllm.yaml", "mecq_zeroshot.yaml"),
        ("mecq_comllm_quick.yaml", "mecq_zeroshot_quick.yaml"),
    ):
        assert {r.key for r in expand(specs[table])} == {r.key for r in expand(specs[zero])}
        assert specs[table].figure == mc.FIG_TABLE and specs[zero].figure == mc.FIG_ZEROSHOT
    llm = {"llm-zero-shot", "llm-sft", "llm-grpo", "comllm"}
    raw = load_spec(PAPER.spec_dir / "mecq_comllm.yaml", check=False)
    assert llm <= {e.name for e in raw.solvers if e.optional}


def test_drawers_return_figures_and_the_table_marks_dqn():
    cases = {**_baselines(6), **_baselines(11)}
    for fig_id in (mc.FIG_TABLE, mc.FIG_ZEROSHOT):
        fig = DRAWERS[fig_id](_experiment(fig_id, cases))
        assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
    arrival = _experiment(mc.FIG_ARRIVAL, _baselines(6))
    for r in arrival.records:
        r.point = {"arrival_prob": 0.3}
    assert isinstance(DRAWERS[mc.FIG_ARRIVAL](arrival), matplotlib.figure.Figure)
    assert DRAWERS[mc.FIG_TABLE](_experiment(mc.FIG_TABLE, {})) is None
    md = markdown_table(_experiment(mc.FIG_TABLE, cases))
    assert "dqn (trained at S = 11)" in md and "dqn (trained at S = 6) | not applicable" in md
    greedy6 = next(r for r in rows(_experiment(mc.FIG_TABLE, cases)) if r.label == "random")
    assert greedy6.closed["ratio_to_greedy_pct"] == pytest.approx(4.7 / 6.1 * 100)


def test_every_spec_that_compares_against_dqn_trains_it_to_its_plateau():
    from offloadlab.methods.mec_queues.dqn_params import DQN, PLATEAU_SLOTS

    paper = get_paper("mec-queues")
    budgets = {
        path.name: run.budget
        for path in paper.spec_paths(False) + paper.spec_paths(True)
        for run in expand(load_spec(path))
        if run.solver == "dqn"
    }
    assert {"mecq_comllm.yaml", "mecq_zeroshot.yaml", "mecq_arrival.yaml", "mecq_comllm_quick.yaml"} <= set(budgets)
    assert set(budgets.values()) == {PLATEAU_SLOTS}
    assert DQN.episodes * make_params("comllm").horizon == PLATEAU_SLOTS  # the solver's default budget too


def test_training_specs_reuse_the_llm_runs():
    paper = get_paper("mec-queues")
    for quick, llm in ((False, "mecq_llm.yaml"), (True, "mecq_llm_quick.yaml")):
        paths = {p.name: p for p in paper.spec_paths(quick)}
        training = "mecq_training_quick.yaml" if quick else "mecq_training.yaml"
        keys = {r.key for r in expand(load_spec(paths[llm]))}
        mine = expand(load_spec(paths[training]))
        assert mine and {r.key for r in mine} <= keys  # nothing runs twice
        assert load_spec(paths[training]).figure == "training" and "training" in DRAWERS
