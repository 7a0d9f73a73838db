"""Plug-in of mec-queues (seed 002): registers the scenario, its envs and, by importing them, its solvers."""

from __future__ import annotations

from offloadlab.core.envs import register_gym, register_parallel_env
from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.mec_queues.env import make_parallel_env
from offloadlab.scenarios.mec_queues.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/mec-queues-v0", "offloadlab.scenarios.mec_queues.env:make_env")
register_parallel_env("offloadlab/mec-queues-parallel-v0", make_parallel_env)

# importing the methods registers their solvers
import offloadlab.methods.mec_queues.heuristics  # noqa: E402,F401
import offloadlab.methods.mec_queues.learned  # noqa: E402,F401
