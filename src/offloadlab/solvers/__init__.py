"""Scenario-agnostic solvers for static problems: random choice, GA, LLM optimizer (``offloadlab.solvers.plugin``
registers them)."""
