"""Figures, the HTML report and the paper-claims verdicts, on stores with known contents."""

from __future__ import annotations

import math
import re

import pytest
from typer.testing import CliRunner

from offloadlab.cli import app
from offloadlab.experiments import plots
from offloadlab.experiments.analysis import find_experiment, load_experiments
from offloadlab.experiments.claims import AGREES, DISAGREES, NOT_MEASURED, PARTLY, evaluate_claims
from offloadlab.experiments.report import build_report
from tests.experiments.synthetic import FIG4_SOLVERS, fig4_objective, fig4_spec, fill


def verdicts(store) -> dict[str, str]:
    return {c.paper.split(" (")[0]: c.verdict for c in evaluate_claims(load_experiments(store))}


def test_cells_mean_std_and_gap_to_reference(tmp_path):
    store = fill(tmp_path, fig4_spec(), fig4_objective)
    exp = find_experiment(store, figure="fig4")
    c = exp.cell("GA", {"N": 10})
    assert c.mean == pytest.approx(0.45) and c.std == pytest.approx(math.sqrt(2) * 0.01)
    # per seed: (0.44 / 0.43, 0.46 / 0.45) - 1
    assert c.gap_mean == pytest.approx((0.44 / 0.43 + 0.46 / 0.45) / 2 - 1)
    assert (c.stored, c.feasible, c.planned) == (2, 2, 2)


def test_fig4_claims(tmp_path):
    v = verdicts(fill(tmp_path, fig4_spec(), fig4_objective))
    assert v["LLM achieves the lowest mean latency for every number of terminals N"] == PARTLY
    assert v["Mean latency ranks LLM < GA < DDPG for every N"] == PARTLY
    assert v["Mean latency rises with N for every scheme"] == AGREES


def test_claims_without_llm_runs_are_not_measured(tmp_path):
    spec = fig4_spec(solvers=FIG4_SOLVERS[1:])
    v = verdicts(fill(tmp_path, spec, fig4_objective))
    assert v["LLM achieves the lowest mean latency for every number of terminals N"] == NOT_MEASURED


def test_fig5_and_table1_claims(tmp_path):
    grid = {"keys": ["N", "M", "I"], "points": [[10, 3, 4], [20, 6, 4]]}
    means = {("LLM", 10): 0.4, ("GA", 10): 0.5, ("RC", 10): 0.6, ("LLM", 20): 0.7, ("GA", 20): 0.6, ("RC", 20): 0.8}
    spec = {
        "name": "f5",
        "figure": "fig5",
        "scenario": "satellite-mec",
        "plot": {"kind": "bars"},
        "grid": grid,
        "seeds": 1,
        "solvers": [FIG4_SOLVERS[i] for i in (0, 1, 3)],
    }
    store = fill(tmp_path, spec, lambda r: means[(r.label, r.point["N"])])
    literal = {
        "name": "t1",
        "figure": "table1",
        "scenario": "satellite-mec",
        "preset": "paper",
        "seeds": 2,
        "solvers": [FIG4_SOLVERS[i] for i in (1, 3, 4)],
    }
    fill(tmp_path, literal, lambda r: None if r.solver == "random" else 0.65)
    v = verdicts(store)
    assert v["LLM outperforms RC at every"] == AGREES
    assert v["GA outperforms LLM at"] == AGREES
    assert v["Offloading with the proposed scheme lowers latency below processing all locally"] == DISAGREES


@pytest.mark.parametrize("kind", ["lines", "bars", "convergence"])
def test_plot_writes_png_and_pdf(tmp_path, kind):
    plot = {"kind": kind, "x": "N"} if kind == "lines" else {"kind": kind}
    store = fill(tmp_path / "s", fig4_spec(plot=plot), fig4_objective)
    paths = plots.save(find_experiment(store, figure="fig4"), tmp_path / "fig")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[0].stat().st_size > 10_000
    assert paths[1].read_bytes()[:5] == b"%PDF-"


def test_report_is_self_contained_with_claims_and_tables(tmp_path):
    store = fill(tmp_path, fig4_spec(), fig4_objective)
    html = build_report(store)
    assert "Paper claims vs measured" in html and "<td><b>partly</b></td>" in html
    assert html.count("data:image/png;base64,") == 1
    assert not re.search(r"""(src|href)=['"](https?:|//)""", html)  # nothing fetched from elsewhere
    assert "gap to ref" in html and "+2.3%" in html  # GA at N=10: mean of 0.44/0.43 and 0.46/0.45, minus 1


def test_cli_plot_and_report(tmp_path):
    store = fill(tmp_path / "s", fig4_spec(), fig4_objective)
    runner = CliRunner()
    res = runner.invoke(app, ["plot", str(store.root), "--figure", "fig4", "-o", str(tmp_path / "figs")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "figs" / "f4.png").is_file() and (tmp_path / "figs" / "f4.pdf").is_file()
    res = runner.invoke(app, ["report", str(store.root), "-o", str(tmp_path / "report.html")])
    assert res.exit_code == 0 and (tmp_path / "report.html").stat().st_size > 10_000
    res = runner.invoke(app, ["plot", str(store.root), "--figure", "fig9"])
    assert res.exit_code != 0 and "no experiment for 'fig9'" in str(res.exception)


def test_llm_iterations_from_the_stored_trajectory():
    import json

    from offloadlab.experiments.analysis import Record
    from offloadlab.papers.satellite_mec.claims import llm_iterations

    bests = [0.5, 0.5, 0.45, 0.45, 0.40, 0.40, 0.40, 0.40]
    row = {
        "status": "ok",
        "stats_json": json.dumps({"initial_objective": 0.5}),
        "details_json": json.dumps({"trajectory": [{"iteration": j + 1, "best": b} for j, b in enumerate(bests)]}),
    }
    rec = Record("k", "LLM", "llm", {}, {}, 0, 0, False, row)
    assert llm_iterations(rec) == (8, [3, 5])


@pytest.mark.parametrize("t05, verdict", [(0.5, PARTLY), (0.6, AGREES), (0.4, DISAGREES)])
def test_fig3_temperature_claim_treats_a_tie_as_partly(tmp_path, t05, verdict):
    solvers = [
        {"name": "llm", "label": "t05", "options": {"temperature": 0.5}},
        {"name": "llm", "label": "t1", "options": {"temperature": 1.0}},
    ]
    spec = {
        "name": "f3",
        "figure": "fig3",
        "scenario": "satellite-mec",
        "plot": {"kind": "convergence"},
        "params": {"M": 3, "N": 10, "I": 4},
        "seeds": 1,
        "solvers": solvers,
    }
    store = fill(tmp_path, spec, lambda r: t05 if r.label == "t05" else 0.5)
    claim = "t = 1 gives the best balance of convergence speed and latency among t = 0.5, 0.7, 1"
    assert verdicts(store)[claim] == verdict


def test_convergence_adds_an_llm_calls_panel_with_llm_methods_only(tmp_path):
    store = fill(tmp_path / "s", fig4_spec(plot={"kind": "convergence"}), fig4_objective)
    fig = plots.draw(find_experiment(store, figure="fig4"))
    axes = fig.get_axes()
    assert [ax.get_xlabel() for ax in axes][1:] == ["Wall-clock time (s)", "LLM calls"]
    shown = {line.get_label() for line in axes[2].get_lines()}
    assert "LLM" in shown and "GA" not in shown and "GA" in {line.get_label() for line in axes[0].get_lines()}
