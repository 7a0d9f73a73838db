"""Tests of the leo-inference scenario (seed 003)."""
