"""Scenario-agnostic solvers for static problems; importing this package registers them."""

from offloadlab.solvers import random_search as _random_search  # noqa: F401
