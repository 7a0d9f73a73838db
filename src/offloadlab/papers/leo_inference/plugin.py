"""Plug-in of leo-inference: registers the scenario and, by importing them, its solvers."""

from __future__ import annotations

from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.leo_inference.problem import PROBLEM

register_scenario(PROBLEM)

# importing the methods registers their solvers
import offloadlab.methods.leo_inference.learning  # noqa: E402,F401
import offloadlab.methods.leo_inference.solvers  # noqa: E402,F401
