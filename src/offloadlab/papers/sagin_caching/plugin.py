"""Plug-in of sagin-caching (seed 001): registers the scenario, its env, its solvers and its paper."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.scenarios.sagin_caching.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/sagin-auctioneer-v0", "offloadlab.scenarios.sagin_caching.env:make_env")
register_paper(Paper(
    scenario=PROBLEM.manifest.id,
    title="Seed 001: caching LLM agents in space-air-ground networks (age of thought, MSB auctions)",
    spec_dir=Path(__file__).parent / "specs",
    specs=tuple(sorted(p.name for p in (Path(__file__).parent / "specs").glob("*.yaml"))),
    quick_specs=(),
    status="implemented; see the claims table for what holds",
))

# importing the methods registers their solvers
import offloadlab.methods.sagin_caching.policies  # noqa: E402,F401
