"""Scenario dt-vehicular (seed 004): digital-twin vehicular edge computing with queues, Lyapunov, MARL, SARL, LLM."""

from offloadlab.core.registry import register_scenario
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

register_scenario(PROBLEM)

from offloadlab.scenarios.dt_vehicular import solvers as _solvers  # noqa: E402,F401  (registers solvers)
