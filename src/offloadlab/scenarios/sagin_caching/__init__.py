"""Scenario sagin-caching (seed 001): caching LLMs at ground BSs with age of thought, and MSB auctions."""

from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.sagin_caching.problem import PROBLEM

register_scenario(PROBLEM)

from offloadlab.scenarios.sagin_caching import solvers as _solvers  # noqa: E402,F401  (registers solvers)
