"""Experiments: spec files -> runs -> results store -> figures -> HTML report."""
