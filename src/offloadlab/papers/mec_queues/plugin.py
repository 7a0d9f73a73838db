"""Plug-in of mec-queues: registers the scenario and, by importing them, its solvers."""

from __future__ import annotations

from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.mec_queues.problem import PROBLEM

register_scenario(PROBLEM)

# importing the methods registers their solvers
import offloadlab.methods.mec_queues.heuristics  # noqa: E402,F401
import offloadlab.methods.mec_queues.learned  # noqa: E402,F401
