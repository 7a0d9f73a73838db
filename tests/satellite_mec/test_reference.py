"""The reference solver reaches the exhaustive grid optimum on tiny instances and beats baselines."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.core.result import Tracker
from offloadlab.methods.satellite_mec.baselines import solve_exhaustive, solve_reference
from offloadlab.methods.satellite_mec.reference import (
    exhaustive_search,
    penalised_score,
    power_patterns,
    reference_search,
)
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params


def test_power_patterns_count_and_budget():
    pats = power_patterns(4, 4)
    assert len(pats) == 69  # C(8, 4) - 1 nonzero compositions
    assert np.all(pats.sum(axis=1) <= 1 + 1e-12) and np.all(pats.sum(axis=1) > 0)


@pytest.mark.parametrize("seed", range(12))
def test_reference_equals_exhaustive_on_tiny_instances(seed):
    # M=2, N=3, I=2 with power in halves of P_IoT: 11 options per terminal, 1331 combinations.
    inst = generate_instance(make_params("default", M=2, N=3, I=2, f_sat_hz=2e9), seed=seed)
    a_ex, p_ex = exhaustive_search(inst, Tracker(), power_levels=2)
    best = penalised_score(inst, a_ex[None], p_ex[None])[0]
    a_ls, p_ls = reference_search(inst, np.random.default_rng(seed), Tracker(), power_levels=2, refine=False)
    found = penalised_score(inst, a_ls[None], p_ls[None])[0]
    assert found == pytest.approx(best, rel=1e-9)
    # continuous refinement can only improve on the grid optimum
    a_rf, p_rf = reference_search(inst, np.random.default_rng(seed), Tracker(), power_levels=2)
    assert penalised_score(inst, a_rf[None], p_rf[None])[0] <= best + 1e-12


@pytest.mark.parametrize(
    ("fn", "name", "value"),
    [
        (solve_exhaustive, "power_levels", 0),
        (solve_exhaustive, "power_levels", 10**30),
        (solve_reference, "power_levels", 65),
        (solve_reference, "restarts", 2**63),
        (solve_reference, "kicks", -1),
    ],
)
def test_search_options_are_bounded(fn, name, value):
    with pytest.raises(InputError, match=f"option {name}"):
        validate_options(fn, fn.__name__, {name: value})
