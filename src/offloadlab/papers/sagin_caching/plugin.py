"""Plug-in of sagin-caching (seed 001): registers the scenario, its env, its solvers and its paper."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.papers.sagin_caching.claims import check_claims
from offloadlab.papers.sagin_caching.figures import DRAWERS
from offloadlab.scenarios.sagin_caching.problem import PROBLEM

SPEC_DIR = Path(__file__).parent / "specs"

register_scenario(PROBLEM)
register_gym("offloadlab/sagin-auctioneer-v0", "offloadlab.scenarios.sagin_caching.env:make_env")
register_paper(
    Paper(
        scenario=PROBLEM.manifest.id,
        title="Seed 001: caching LLM agents in space-air-ground networks (age of thought, MSB auctions)",
        spec_dir=SPEC_DIR,
        specs=tuple(sorted(p.name for p in SPEC_DIR.glob("*.yaml") if not p.stem.endswith("_quick"))),
        quick_specs=tuple(sorted(p.name for p in SPEC_DIR.glob("*_quick.yaml"))),
        claims=check_claims,
        drawers=DRAWERS,
    )
)

# importing the methods registers their solvers
import offloadlab.methods.sagin_caching.policies  # noqa: E402,F401
