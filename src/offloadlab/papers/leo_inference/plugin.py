"""Plug-in of leo-inference (seed 003): registers the scenario, its envs, its solvers and its paper."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym, register_parallel_env
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.papers.leo_inference.claims import check_claims
from offloadlab.papers.leo_inference.figures import DRAWERS
from offloadlab.scenarios.leo_inference.env import make_parallel_env
from offloadlab.scenarios.leo_inference.problem import PROBLEM

SPEC_DIR = Path(__file__).parent / "specs"

register_scenario(PROBLEM)
register_gym("offloadlab/leo-inference-v0", "offloadlab.scenarios.leo_inference.env:make_env")
register_parallel_env("offloadlab/leo-inference-parallel-v0", make_parallel_env)
register_paper(
    Paper(
        scenario=PROBLEM.manifest.id,
        title="Seed 003: LEOEdge, satellite-ground AI inference offloading in large LEO constellations",
        spec_dir=SPEC_DIR,
        specs=tuple(sorted(p.name for p in SPEC_DIR.glob("*.yaml") if not p.stem.endswith("_quick"))),
        quick_specs=tuple(sorted(p.name for p in SPEC_DIR.glob("*_quick.yaml"))),
        claims=check_claims,
        drawers=DRAWERS,
    )
)

# importing the methods registers their solvers
import offloadlab.methods.leo_inference.adaptive.solver  # noqa: E402,F401
import offloadlab.methods.leo_inference.learning  # noqa: E402,F401
import offloadlab.methods.leo_inference.solvers  # noqa: E402,F401
