"""Plug-in of satellite-mec (seed 000): registers the scenario, its envs, its solvers and its paper."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.papers.satellite_mec.claims import check_claims
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/satellite-mec-v0", "offloadlab.scenarios.satellite_mec.env:make_env")
register_paper(
    Paper(
        scenario=PROBLEM.manifest.id,
        title="Seed 000: LLM-based offloading, power and computing allocation in multi-satellite MEC",
        spec_dir=Path(__file__).parent / "specs",
        specs=(
            "sat_mec_fig3_convergence.yaml",
            "sat_mec_fig4_terminals.yaml",
            "sat_mec_fig5_grid.yaml",
            "sat_mec_table1_literal.yaml",
            # extensions at constellation scale (docs/satellite-mec-scale.md)
            "sat_mec_constellation_terminals.yaml",
            "sat_mec_constellation_orbit.yaml",
        ),
        quick_specs=("sat_mec_fig4_quick.yaml",),
        claims=check_claims,
    )
)

# importing the methods registers their solvers
import offloadlab.methods.satellite_mec.baselines  # noqa: E402,F401
import offloadlab.methods.satellite_mec.ddpg  # noqa: E402,F401
import offloadlab.methods.satellite_mec.llm_tuned  # noqa: E402,F401
import offloadlab.methods.satellite_mec.tuned_training  # noqa: E402,F401
