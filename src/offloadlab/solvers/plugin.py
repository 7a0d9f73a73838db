"""Plug-in of the generic solvers: importing it registers random, ga and llm for every static scenario."""

import offloadlab.solvers.ga  # noqa: F401
import offloadlab.solvers.llm_opro  # noqa: F401
import offloadlab.solvers.random_search  # noqa: F401
