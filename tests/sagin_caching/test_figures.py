"""The paper's specs load; a tiny sweep through the runner is drawn by the paper's drawers and its claims
are computed from the stored runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offloadlab.core.registry import get_paper
from offloadlab.experiments.analysis import load_experiments, open_store
from offloadlab.experiments.claims import NOT_MEASURED, VERDICTS
from offloadlab.experiments.plots import draw
from offloadlab.experiments.runner import inline_executor, run_sweep
from offloadlab.experiments.spec import check_registered, load_spec, parse_spec
from offloadlab.papers.sagin_caching.claims import check_claims

PAPER = get_paper("sagin-caching")
SPECS = [*PAPER.spec_paths(quick=False), *PAPER.spec_paths(quick=True)]
TINY = {"T": 10, "num_bs": 3, "num_services": 4, "num_gpus": 6, "market_train_episodes": 1}
CACHING = [
    {"name": "laot", "label": "LAoT"},
    {"name": "fifo", "label": "FIFO"},
    {"name": "lfu", "label": "LFU"},
    {"name": "cloud", "label": "cloud (ground core)", "options": {"relay": "ground"}},
    {"name": "cloud", "label": "cloud via satellite", "options": {"relay": "satellite"}},
    {"name": "laot", "label": "LAoT + satellite relay", "options": {"relay": "satellite"}},
]
AUCTIONS = [
    {"name": "dqmsb", "label": "DQMSB", "options": {"timesteps": 100, "progress": False}},
    {"name": "msb-optimal", "label": "optimal MSB"},
    {"name": "msb-myopic", "label": "myopic MSB"},
    {"name": "spa", "label": "SPA"},
]


def test_full_and_quick_specs_are_listed_and_valid():
    assert len(PAPER.quick_specs) >= 3 and not set(PAPER.quick_specs) & set(PAPER.specs)
    for path in SPECS:
        assert load_spec(path).scenario == "sagin-caching", path.name


def _sweep(store: Path, name: str, figure: str, grid: dict, solvers: list[dict], **params) -> None:
    spec = check_registered(
        parse_spec(
            {
                "name": name,
                "figure": figure,
                "scenario": "sagin-caching",
                "params": {**TINY, **params},
                "grid": {"product": grid},
                "seeds": 1,
                "solvers": solvers,
            }
        )
    )
    assert run_sweep(spec, store, inline_executor, show_progress=False).complete


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("sagin") / "r"
    _sweep(store, "sagin_fig3_tiny", "fig3c", {"num_gpus": [4, 6]}, CACHING)
    shared = {"satellite_bandwidth": "shared"}
    _sweep(store, "sagin_fig3_tiny_shared", "fig3c-shared", {"num_gpus": [4, 6]}, CACHING, **shared)
    _sweep(store, "sagin_fig6_tiny", "fig6a", {"num_bs": [2, 3]}, AUCTIONS)
    return store


def test_drawers_draw_the_tiny_store(tiny_store):
    for exp in load_experiments(open_store(tiny_store)):
        fig = PAPER.draw(exp)
        assert fig is not None and fig.axes, exp.name
        assert draw(exp) is not None  # what `offloadlab plot` uses


def test_claims_are_computed_from_the_runs(tiny_store):
    exps = load_experiments(open_store(tiny_store))
    table = PAPER.check_claims(exps)
    by_paper = {c.paper: c for c in table}
    assert all(c.verdict in VERDICTS for c in table)
    laot = next(c for p, c in by_paper.items() if p.startswith("Least-AoT keeps"))
    assert "of 2 grid points" in laot.measured and laot.verdict != NOT_MEASURED
    cut = next(c for p, c in by_paper.items() if "41 %" in p and "per-area" in p)
    assert "over 6 comparisons" in cut.measured
    trend = next(c for c in table if c.figure == "fig6a")
    assert trend.measured.count("->") == 4  # one series per auction
    assert any("strategy-proof" in p for p in by_paper)
    # every row names the stored runs it used, and they are runs of the store
    keys = {r.key for e in exps for r in e.records if r.ok}
    assert all(c.runs and set(c.runs) <= keys for c in table if c.verdict != NOT_MEASURED)
    assert check_claims(exps) and len(table) == len(check_claims(exps))


def test_each_bandwidth_reading_has_its_own_verdict(tiny_store):
    table = PAPER.check_claims(load_experiments(open_store(tiny_store)))
    cuts = {c.paper: c for c in table if "41 %" in c.paper}
    assert sorted(p.rsplit("[", 1)[1] for p in cuts) == [
        "default, per-area satellite bandwidth]",
        "default, shared satellite bandwidth]",
    ]
    per_area, shared = (next(c for p, c in cuts.items() if w in p) for w in ("per-area", "shared"))
    assert set(per_area.runs).isdisjoint(shared.runs)  # each verdict from the runs of its own reading
    assert per_area.measured != shared.measured
    # the caching policies never use the satellite: their comparison is reported once, not per reading
    assert sum(p.startswith("Least-AoT keeps") for p in cuts | {c.paper: c for c in table}) == 1


def test_surplus_and_efficiency_rows_report_different_measurements(tiny_store):
    table = {c.paper.split(" (")[0]: c for c in PAPER.check_claims(load_experiments(open_store(tiny_store)))}
    surplus = table["DQMSB's total surplus exceeds MSB's by about 20 %"]
    efficiency = table["DQMSB improves allocation efficiency by 23 %"]
    gain = float(re.search(r"vs optimal MSB (-?[\d.]+) % mean", surplus.measured)[1])
    points = float(re.search(r": ([-+][\d.]+) points mean", efficiency.measured)[1])
    assert gain != pytest.approx(points, abs=0.05)  # efficiency's relative gain would be the surplus ratio again
