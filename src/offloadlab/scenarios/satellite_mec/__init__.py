"""Scenario satellite-mec (seed 000): multi-satellite MEC offloading, power and CPU allocation."""

from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

register_scenario(PROBLEM)

from offloadlab.scenarios.satellite_mec import solvers as _solvers  # noqa: E402,F401  (registers solvers)
from offloadlab.rl import ddpg as _ddpg  # noqa: E402,F401  (registers the ddpg solver)
