"""Shared fixtures."""

from __future__ import annotations

import pytest

from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params


@pytest.fixture
def small_instance():
    """A calibrated (3, 10, 4) satellite-mec instance."""
    return generate_instance(make_params("default", M=3, N=10, I=4), seed=7)
