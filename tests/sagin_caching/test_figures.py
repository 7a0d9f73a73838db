"""The experiment specs load, and a tiny sweep through the runner is drawn by the figures module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offloadlab.experiments.runner import inline_executor, run_sweep
from offloadlab.experiments.spec import check_registered, load_spec, parse_spec
from offloadlab.papers.sagin_caching import figures

SPECS = sorted(Path(__file__).resolve().parents[2].joinpath("experiments").glob("sagin_*.yaml"))
TINY = {"T": 10, "num_bs": 3, "num_services": 4, "num_gpus": 6, "market_train_episodes": 1}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_specs_are_valid(path):
    assert load_spec(path).scenario == "sagin-caching"


def _sweep(store: Path, name: str, grid: dict, solvers: list[dict]) -> None:
    spec = check_registered(parse_spec({"name": name, "scenario": "sagin-caching", "params": TINY,
                                        "grid": {"product": grid}, "seeds": 1, "solvers": solvers}))
    assert run_sweep(spec, store, inline_executor, show_progress=False).complete


def test_figures_and_claims_from_a_tiny_store(tmp_path):
    store = tmp_path / "r"
    caching = [{"name": "laot", "label": "LAoT"}, {"name": "fifo", "label": "FIFO"}, {"name": "lfu", "label": "LFU"},
               {"name": "cloud", "label": "cloud (ground core)", "options": {"relay": "ground"}},
               {"name": "cloud", "label": "cloud via satellite", "options": {"relay": "satellite"}},
               {"name": "laot", "label": "LAoT + satellite relay", "options": {"relay": "satellite"}}]
    _sweep(store, "sagin_fig3_tiny", {"num_gpus": [4, 6]}, caching)
    auctions = [{"name": "dqmsb", "label": "DQMSB", "options": {"timesteps": 100, "progress": False}},
                {"name": "msb-optimal", "label": "optimal MSB"}, {"name": "msb-myopic", "label": "myopic MSB"},
                {"name": "spa", "label": "SPA"}]
    _sweep(store, "sagin_fig6_tiny", {"num_bs": [2, 3]}, auctions)
    figures.main([str(store), "-o", str(tmp_path / "fig")])
    assert (tmp_path / "fig" / "sagin_fig3_tiny.png").stat().st_size > 0
    assert (tmp_path / "fig" / "sagin_fig6_tiny.png").stat().st_size > 0
    claims = json.loads((tmp_path / "fig" / "sagin_claims.json").read_text())["default"]
    assert claims["laot_lowest_caching_cost"]["of"] == 2
    assert claims["satellite_cost_cut"]["LAoT"]["n"] == 2
    assert claims["dqmsb"]["surplus vs optimal MSB"]["n"] == 2
