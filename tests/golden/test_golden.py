"""Golden values: every scenario's solvers give, on fixed seeds and small budgets, the objectives recorded
before the architecture move (``tests/golden/record.py`` run on commit 7bfc691): exactly for numpy
computations, within ``TRAINED_REL`` for torch-trained and LLM solvers (why: ``tests/golden/cases.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offloadlab.core.registry import get_scenario
from offloadlab.core.run import solve
from tests.golden.cases import CASES, tolerance

VALUES = json.loads((Path(__file__).parent / "values.json").read_text())
SLOW = {"llm", "llm-icl"}  # the embedded model makes these take about a minute each


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=f"{c[0]}/{c[2]}", marks=[pytest.mark.slow] if c[2] in SLOW else []) for c in CASES]
)
def test_objective_unchanged(case):
    scenario, overrides, solver, seed, budget, options = case
    data = get_scenario(scenario).make_instance(0, "default", **overrides)
    _, _, res = solve(data, solver, seed, budget, **options)
    objective, surplus = VALUES[f"{scenario}/{solver}"]
    rel = tolerance(solver)
    assert res.objective == pytest.approx(objective, rel=rel, abs=1e-15)
    if surplus is not None:
        assert res.details["total_surplus"] == pytest.approx(surplus, rel=rel)
