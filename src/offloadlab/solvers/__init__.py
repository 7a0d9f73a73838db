"""Scenario-agnostic solvers for static problems; importing this package registers them."""

from offloadlab.solvers import random_search as _random_search  # noqa: F401
from offloadlab.solvers import ga as _ga  # noqa: F401
from offloadlab.solvers import llm_opro as _llm_opro  # noqa: F401
