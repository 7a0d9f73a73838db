"""Scenario satellite-mec (seed 000): multi-satellite MEC offloading, power and CPU allocation."""
