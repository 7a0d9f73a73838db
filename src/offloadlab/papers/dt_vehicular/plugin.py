"""Plug-in of dt-vehicular (seed 004): registers the scenario, its envs, its solvers and its paper."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym, register_parallel_env
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.papers.dt_vehicular.claims import check_claims
from offloadlab.papers.dt_vehicular.figures import DRAWERS
from offloadlab.scenarios.dt_vehicular.env import make_parallel_env
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/dt-vehicular-v0", "offloadlab.scenarios.dt_vehicular.env:make_env")
register_parallel_env("offloadlab/dt-vehicular-parallel-v0", make_parallel_env)
register_paper(
    Paper(
        scenario=PROBLEM.manifest.id,
        title="Seed 004: digital-twin vehicular edge computing (Lyapunov, MARL, SARL, LLM in-context learning)",
        spec_dir=Path(__file__).parent / "specs",
        specs=(
            "dt_vehicular_training.yaml",
            "dt_vehicular_queues.yaml",
            "dt_vehicular_figs3_6.yaml",
            "dt_vehicular_bias_nominal.yaml",
        ),
        quick_specs=(
            "dt_vehicular_training_quick.yaml",
            "dt_vehicular_queues_quick.yaml",
            "dt_vehicular_figs3_6_quick.yaml",
        ),
        claims=check_claims,
        drawers=DRAWERS,
    )
)

# importing the methods registers their solvers
import offloadlab.methods.dt_vehicular.baselines  # noqa: E402,F401
