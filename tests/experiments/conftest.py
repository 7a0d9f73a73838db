"""Helpers for experiment tests: tiny specs on satellite-mec with fast solvers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml


def tiny_spec(**overrides: Any) -> dict[str, Any]:
    """A spec of 8 quick runs: N = 3, 5 x seeds 0, 1 x (local, random)."""
    spec = {
        "name": "tiny",
        "figure": "fig4",
        "scenario": "satellite-mec",
        "plot": {"kind": "lines", "x": "N"},
        "params": {"M": 2, "I": 2},
        "grid": {"product": {"N": [3, 5]}},
        "seeds": 2,
        "budget": 64,
        "solvers": [{"name": "local", "label": "PAL"}, {"name": "random", "label": "RC"}],
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write a spec dict as YAML and return its path."""

    def write(data: dict[str, Any], name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write
