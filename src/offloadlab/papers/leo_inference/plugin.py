"""Plug-in of leo-inference (seed 003): registers the scenario, its envs and, by importing them, its solvers."""

from __future__ import annotations

from offloadlab.core.envs import register_gym, register_parallel_env
from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.leo_inference.env import make_parallel_env
from offloadlab.scenarios.leo_inference.problem import PROBLEM

register_scenario(PROBLEM)
register_gym("offloadlab/leo-inference-v0", "offloadlab.scenarios.leo_inference.env:make_env")
register_parallel_env("offloadlab/leo-inference-parallel-v0", make_parallel_env)

# importing the methods registers their solvers
import offloadlab.methods.leo_inference.learning  # noqa: E402,F401
import offloadlab.methods.leo_inference.solvers  # noqa: E402,F401
