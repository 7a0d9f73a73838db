"""The paper layer of leo-inference: specs valid, claims computed from (synthetic and real) stored runs and
able to fail, drawers returning figures."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

import offloadlab.papers.leo_inference.plugin  # noqa: F401  (registers the scenario, solvers and paper)
from offloadlab.core.registry import get_paper
from offloadlab.experiments.analysis import Experiment, Record
from offloadlab.experiments.claims import AGREES, DISAGREES, NOT_MEASURED, PARTLY
from offloadlab.experiments.plan import expand
from offloadlab.experiments.runner import execute_run
from offloadlab.experiments.spec import load_spec, parse_spec
from offloadlab.papers.leo_inference import claims as C
from offloadlab.papers.leo_inference.figures import DRAWERS
from offloadlab.papers.leo_inference.stored import busy_cores, rebuilt

PAPER = get_paper("leo-inference")
LEVELS = ("light", "normal", "heavy")


def row(
    details: dict[str, Any],
    stats: dict[str, Any] | None = None,
    decision: dict[str, Any] | None = None,
    feasible: bool = True,
) -> dict[str, Any]:
    """A stored-run row holding only what the claims read."""
    return {
        "status": "ok",
        "feasible": feasible,
        "objective": 0.0 if feasible else None,
        "details_json": json.dumps({"feasible": feasible, **details}),
        "stats_json": json.dumps(stats or {}),
        "decision_json": json.dumps(decision or {}),
    }


def experiment(figure: str, cells: dict[tuple[str, str], list[dict[str, Any]]], key: str = "arrivals") -> Experiment:
    """An experiment with one record per (label = solver name, grid value) row."""
    recs = [
        Record(
            key=f"{lab}-{v}-{j}",
            label=lab,
            solver=lab,
            options={},
            point={key: v},
            instance_seed=j,
            repetition=0,
            reference=False,
            row=r,
        )
        for (lab, v), rows in cells.items()
        for j, r in enumerate(rows)
    ]
    return Experiment(f"synthetic_{figure}", figure, figure, {"scenario": "leo-inference"}, recs)


# CPU utilisation per (solver, level) as the paper describes Fig. 7.
PAPER_LOADS = {
    "threshold": (0.2, 0.3, 0.4),
    "workload": (0.5, 0.5, 0.5),
    "leoedge": (0.48, 0.5, 0.52),
    "marl": (0.5, 0.55, 0.97),
    "a3c": (0.5, 0.55, 0.92),
}


def fig7(loads: dict[str, tuple[float, ...]]) -> Experiment:
    return experiment(
        "fig7",
        {(s, lev): [row({"mean_cpu_utilisation": v[i]})] for s, v in loads.items() for i, lev in enumerate(LEVELS)},
    )


def verdicts(claims: list[C.Claim]) -> list[str]:
    return [c.verdict for c in claims]


def test_fig7_claims_agree_with_the_papers_numbers() -> None:
    assert verdicts(C.fig7_claims(fig7(PAPER_LOADS))) == [AGREES] * 5


def test_fig7_claims_fail_on_other_numbers() -> None:
    loads = {**PAPER_LOADS, "threshold": (0.06, 0.07, 0.45), "workload": (0.5, 0.5, 0.44), "marl": (0.5, 0.5, 0.5)}
    got = C.fig7_claims(fig7(loads))
    # lowest at light/normal only, about 0.4 only under heavy, MARL far from 100 %, A3C above MARL
    assert verdicts(got) == [PARTLY, PARTLY, AGREES, DISAGREES, DISAGREES]
    assert "heavy: " in got[0].measured and "(fails)" in got[0].measured


def test_fig7_missing_scheme_is_not_measured() -> None:
    loads = {k: v for k, v in PAPER_LOADS.items() if k != "marl"}
    got = C.fig7_claims(fig7(loads))
    assert got[3].verdict == NOT_MEASURED and "MARL" in got[3].measured


def fig8(lat: dict[str, tuple[float, ...]], feasible: bool = True) -> Experiment:
    return experiment(
        "fig8",
        {
            (s, lev): [row({"mean_latency_s": v[i]}, feasible=feasible or s != "threshold")]
            for s, v in lat.items()
            for i, lev in enumerate(LEVELS)
        },
    )


def test_fig8_claims() -> None:
    lat = {
        "leoedge": (0.15, 0.16, 0.18),
        "threshold": (0.2, 0.2, 0.21),
        "workload": (0.3, 0.35, 0.4),
        "marl": (0.4, 0.5, 0.6),
        "a3c": (0.5, 0.6, 0.7),
        "local-only": (1.0, 2.0, 9.0),
    }
    assert verdicts(C.fig8_claims(fig8(lat))) == [AGREES] * 4
    worse = {**lat, "leoedge": (0.25, 0.1, 3.0), "a3c": (0.3, 0.6, 0.5), "threshold": (1.1, 1.1, 1.1)}
    got = C.fig8_claims(fig8(worse, feasible=False))
    assert verdicts(got) == [PARTLY, PARTLY, DISAGREES, PARTLY]
    assert "Threshold 1100 ms" in got[0].measured  # infeasible runs count, and are named
    assert "infeasible runs" in got[0].measured


def fig9(msgs: dict[int, tuple[float, float, float]], tasks_per_sat: int = 3) -> Experiment:
    cells = {
        ("leoedge", n): [row({}, {"messages": dict(zip(C.LAYERS, m))}, {"offload": [0.0] * (tasks_per_sat * n)})]
        for n, m in msgs.items()
    }
    return experiment("fig9", cells, key="satellites")


def test_fig9_claims() -> None:
    linear = {n: (60.0 * n, 10.0 * n, 900.0 * n) for n in (1, 2, 4, 8)}
    got = C.fig9_claims(fig9(linear))
    assert verdicts(got) == [AGREES, AGREES, AGREES]
    curved = {n: (5.0 * n**3, 10.0 * n, 100.0 * n) for n in (1, 2, 4, 8)}
    got = C.fig9_claims(fig9(curved))
    # server-container highest at 1, 2, 4 satellites, not 8; under 1000 at 3 of 4; R^2 of the cubic 0.91
    assert verdicts(got) == [PARTLY, AGREES, DISAGREES]
    assert C.fig9_claims(fig9({1: (1.0, 1.0, 2.0)}))[2].verdict == NOT_MEASURED


def test_r_squared_hand_values() -> None:
    assert C.r_squared(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])) == pytest.approx(1.0)
    # y = (0, 1, 0): the best line is flat at 1/3, residual = total
    assert C.r_squared(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0])) == pytest.approx(0.0)


def test_adaptive_claims_without_a_stored_run_are_not_measured() -> None:
    got = C.adaptive_claims([fig7(PAPER_LOADS)])
    assert [c.figure for c in got] == ["table2_3", "fig6"]
    assert verdicts(got) == [NOT_MEASURED, NOT_MEASURED]


def test_adaptive_source_is_a_stored_run_only() -> None:
    assert C.adaptive_source([fig7(PAPER_LOADS)]) is None  # no shipped fallback
    exp = experiment("table2_3", {("adaptive", "x"): [row({"rows": [{}], "fig6": {"gd": [1.0]}})]}, key="k")
    assert C.adaptive_source([exp]) == (
        "synthetic_table2_3",
        "stored run, adaptive",
        {"feasible": True, "rows": [{}], "fig6": {"gd": [1.0]}},
    )


@pytest.mark.slow
def test_adaptive_claims_from_a_stored_run() -> None:
    """A run of an 'adaptive' solver storing the helper's rows and Fig. 6 curves is judged by its claims."""
    from offloadlab.methods.leo_inference.adaptive.tables import FAMILIES, Reproduced, load_paper_tables

    paper = load_paper_tables()
    rows = [
        asdict(
            Reproduced(
                r.processor, r.family, r.wo_ms, r.w_ms, r.acc_pct, 1.0, r.wo_ms, 17.0, 90.0, 89.5, [], 10, 5, "test"
            )
        )
        for r in paper.rows
        if r.family in FAMILIES
    ]
    curves = {"gd": [2.0, 1.9, 1.8], "nag": [2.0, 1.7, 1.5]}
    exp = experiment("table2_3", {("adaptive", "x"): [row({"rows": rows, "fig6": curves})]}, key="k")
    got = C.adaptive_claims([exp])
    fig6 = [c for c in got if c.figure == "fig6"]
    assert fig6 and fig6[0].verdict == AGREES
    # the printed tables have entries below 15 ms: that claim fails, ours (all 17 ms) holds
    assert [c.verdict for c in got if c.figure == "table2_3"][:2] == [DISAGREES, AGREES]


def test_notes_are_not_measured_by_the_paper() -> None:
    relay = experiment(
        "relay", {("leoedge", "x"): [row({"mean_delivery_s": 0.5, "relayed": 3, "total_benefit": 2.0})]}, key="k"
    )
    got = C.notes([relay])
    assert verdicts(got) == [NOT_MEASURED, NOT_MEASURED]
    assert "delivery 500 ms" in got[0].measured and "3.0 tasks relayed" in got[0].measured


def test_specs_valid_and_quick_smaller() -> None:
    full = {p.name: len(expand(load_spec(p))) for p in PAPER.spec_paths(False)}
    quick = {p.name: len(expand(load_spec(p))) for p in PAPER.spec_paths(True)}
    assert {n.replace("_quick", "") for n in quick} <= set(full)
    figures = {load_spec(p).figure for p in PAPER.spec_paths(True)}
    assert figures == {"fig7", "fig8", "fig9", "gap", "relay", "adaptive"}
    assert {load_spec(p).figure for p in PAPER.spec_paths(False)} <= set(PAPER.drawers)
    assert all(quick[n] <= full[n.replace("_quick", "")] for n in quick)


# ---- real stored runs of a tiny spec ---------------------------------------------------------------------

TINY = {
    "name": "tiny",
    "figure": "fig7",
    "scenario": "leo-inference",
    "preset": "paper",
    "params": {"contact_model": "always", "hours": 0.01},
    "grid": {"product": {"arrivals": ["light", "heavy"]}},
    "seeds": 1,
    "solvers": [
        {"name": "leoedge", "options": {"max_iter": 20}},
        {"name": "threshold"},
        {"name": "central"},
        {"name": "local-only"},
    ],
}


def stored(spec: dict[str, Any]) -> Experiment:
    """The spec's runs executed here and joined into an Experiment."""
    parsed = parse_spec(spec)
    recs = []
    for cfg in expand(parsed):
        recs.append(
            Record(
                cfg.key,
                cfg.label,
                cfg.solver,
                cfg.options,
                cfg.point,
                cfg.instance_seed,
                cfg.repetition,
                cfg.reference,
                execute_run(cfg, parsed.name),
            )
        )
    assert all(r.ok for r in recs), [r.row.get("error") for r in recs if not r.ok]
    return Experiment(parsed.name, parsed.figure, parsed.title, parsed.model_dump(), recs)


@pytest.fixture(scope="module")
def tiny() -> Experiment:
    return stored(TINY)


@pytest.mark.parametrize("figure", ["fig7", "fig8", "fig9", "relay"])
def test_drawers_return_a_figure(tiny: Experiment, figure: str) -> None:
    exp = Experiment(tiny.name, figure, tiny.title, tiny.spec, tiny.records)
    fig = PAPER.draw(exp)
    assert isinstance(fig, Figure)


def test_gap_drawer(tiny: Experiment) -> None:
    assert DRAWERS["gap"](tiny) is None  # no reference runs
    spec = {
        **TINY,
        "name": "g",
        "figure": "gap",
        "grid": {"product": {"arrivals": ["heavy"]}},
        "solvers": [{"name": "leoedge", "options": {"max_iter": 20}}, {"name": "reference", "reference": True}],
    }
    assert isinstance(DRAWERS["gap"](stored(spec)), Figure)


def test_rebuilt_decision_matches_the_stored_details(tiny: Experiment) -> None:
    """The drawers' instance rebuilt from seed and parameters reproduces the stored run."""
    rec = next(r for r in tiny.records if r.solver == "threshold" and r.point["arrivals"] == "heavy")
    model, target = rebuilt(rec)
    stored_details = json.loads(rec.row["details_json"])
    assert np.mean(target >= 0) == pytest.approx(stored_details["offload_fraction"])
    assert model.simulate(target)["latency"].mean() == pytest.approx(stored_details["mean_latency_s"])
    # until the last task ends: the busy core-seconds of the stored mean utilisation
    end = float(model.simulate(target)["done"].max())
    whole = busy_cores(model, target, np.array([0.0, end]))[0] * end
    assert whole == pytest.approx(stored_details["mean_cpu_utilisation"] * model.inst.horizon_s)


def test_busy_cores_hand_worked(tiny: Experiment) -> None:
    """One task offloaded: it keeps one of 48 cores busy for c(m_e) = 0.32 s."""
    rec = next(r for r in tiny.records if r.solver == "local-only")
    model, _ = rebuilt(rec)
    target = np.full(model.inst.n_tasks, -1)
    target[0] = 0
    done = model.simulate(target)["done"][0]
    edges = np.array([done - 0.32, done, done + 1.0])
    assert busy_cores(model, target, edges) == pytest.approx([1 / 48, 0.0])


def test_claims_on_real_runs(tiny: Experiment) -> None:
    got = C.check_claims([tiny])
    assert {c.figure for c in got} >= {"fig7", "table2_3", "fig6", "relay", "baselines"}
    assert all(c.verdict in (AGREES, PARTLY, DISAGREES, NOT_MEASURED) for c in got)
