"""Plug-in of mec-queues (seed 002): registers the scenario, its envs, its paper and, by importing them, its
solvers."""

from __future__ import annotations

from pathlib import Path

from offloadlab.core.envs import register_gym, register_parallel_env
from offloadlab.core.registry import register_paper, register_scenario
from offloadlab.experiments.paper import Paper
from offloadlab.papers.mec_queues.claims import check_claims
from offloadlab.papers.mec_queues.figures import DRAWERS
from offloadlab.scenarios.mec_queues.env import make_parallel_env
from offloadlab.scenarios.mec_queues.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/mec-queues-v0", "offloadlab.scenarios.mec_queues.env:make_env")
register_parallel_env("offloadlab/mec-queues-parallel-v0", make_parallel_env)
register_paper(
    Paper(
        scenario=PROBLEM.manifest.id,
        title="Seed 002: COMLLM, LLM task offloading with look-ahead (Tang & Wong queue simulator, both worlds)",
        spec_dir=Path(__file__).parent / "specs",
        specs=(
            "mecq_comllm.yaml",
            "mecq_zeroshot.yaml",
            "mecq_arrival.yaml",
            "mecq_llm.yaml",
            "mecq_llm_zeroshot.yaml",
            "mecq_training.yaml",
        ),
        quick_specs=(
            "mecq_comllm_quick.yaml",
            "mecq_zeroshot_quick.yaml",
            "mecq_arrival_quick.yaml",
            "mecq_llm_quick.yaml",
            "mecq_llm_zeroshot_quick.yaml",
            "mecq_training_quick.yaml",
        ),
        claims=check_claims,
        drawers=DRAWERS,
    )
)

# importing the methods registers their solvers
import offloadlab.methods.mec_queues.heuristics  # noqa: E402,F401
import offloadlab.methods.mec_queues.learned  # noqa: E402,F401
import offloadlab.methods.mec_queues.llm_policies  # noqa: E402,F401
import offloadlab.methods.mec_queues.training  # noqa: E402,F401
