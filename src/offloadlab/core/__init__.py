"""Abstractions every scenario shares: problems, decision spaces, results, the registry."""
