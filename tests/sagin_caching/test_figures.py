"""The paper's specs load; a tiny sweep through the runner is drawn by the paper's drawers and its claims
are computed from the stored runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from offloadlab.core.registry import get_paper
from offloadlab.experiments.analysis import load_experiments, open_store
from offloadlab.experiments.claims import NOT_MEASURED, VERDICTS
from offloadlab.experiments.plots import draw
from offloadlab.experiments.runner import inline_executor, run_sweep
from offloadlab.experiments.spec import check_registered, load_spec, parse_spec
from offloadlab.papers.sagin_caching.claims import claims

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


def _sweep(store: Path, name: str, figure: str, grid: dict, solvers: list[dict]) -> None:
    spec = check_registered(
        parse_spec(
            {
                "name": name,
                "figure": figure,
                "scenario": "sagin-caching",
                "params": TINY,
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
    _sweep(store, "sagin_fig6_tiny", "fig6a", {"num_bs": [2, 3]}, AUCTIONS)
    return store


def test_drawers_draw_the_tiny_store(tiny_store):
    for exp in load_experiments(open_store(tiny_store)):
        fig = PAPER.draw(exp)
        assert fig is not None and fig.axes, exp.name
        assert draw(exp) is not None  # what `offloadlab plot` uses


def test_claims_are_computed_from_the_runs(tiny_store):
    table = claims(load_experiments(open_store(tiny_store)))
    by_paper = {c.paper: c for c in table}
    assert all(c.verdict in VERDICTS for c in table)
    laot = next(c for p, c in by_paper.items() if p.startswith("Least-AoT keeps"))
    assert "of 2 grid points" in laot.measured and laot.verdict != NOT_MEASURED
    cut = next(c for p, c in by_paper.items() if "41 %" in p)
    assert "over 6 comparisons" in cut.measured
    trend = next(c for c in table if c.figure == "fig6a")
    assert trend.measured.count("->") == 4  # one series per auction
    assert any("strategy-proof" in p for p in by_paper)
