"""Shared small instances."""

from __future__ import annotations

import pytest

from offloadlab.scenarios.leo_inference.problem import PROBLEM


@pytest.fixture(scope="module")
def paper_json():
    """The paper preset, 1 h, seed 3."""
    return PROBLEM.make_instance(3, "paper")


@pytest.fixture(scope="module")
def small_json():
    """A short default-preset instance where every satellite always reaches the station."""
    return PROBLEM.make_instance(5, "default", hours=0.05, contact_model="always")
