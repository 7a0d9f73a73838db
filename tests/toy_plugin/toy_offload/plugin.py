"""The toy plug-in: importing it registers the scenario, its solver and its paper."""

from offloadlab.core.registry import register_paper, register_scenario

from . import methods  # noqa: F401  (registers the solver)
from .model import PROBLEM
from .paper import PAPER

register_scenario(PROBLEM)
register_paper(PAPER)
