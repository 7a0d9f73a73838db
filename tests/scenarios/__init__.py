"""Scenario tests, one package per scenario."""
