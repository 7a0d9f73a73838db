"""GA genomes: the satellite-mec option genome by hand and by property, the flat default, the choice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.core.errors import InputError
from offloadlab.core.genome import FlatGenome, genome_for
from offloadlab.scenarios.satellite_mec.genome import OptionGenome
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

TINY = generate_instance(make_params("default", M=2, N=3, I=2), seed=1)  # P_IoT = 0.2 W


def test_option_genome_decodes_by_hand():
    # options: 0 = local, 1 + m*I + i = satellite m, sub-channel i (I = 2)
    X = np.array([[0, 1, 4, 0.15, 0.1, 0.05]])
    d = OptionGenome(TINY).decode(X)
    np.testing.assert_array_equal(d["offload"][0], [[0, 1, 0], [0, 0, 1]])
    np.testing.assert_allclose(d["power_w"][0], [[0, 0], [0.1, 0], [0, 0.05]])  # local: no power
    np.testing.assert_array_equal(OptionGenome(TINY).encode(d), [[0, 1, 4, 0, 0.1, 0.05]])


def test_option_genome_encodes_the_strongest_channel_and_total_power():
    d = {"offload": np.array([[[1.0, 0, 0], [0, 0, 1]]]), "power_w": np.array([[[0.05, 0.12], [0, 0], [0.3, 0.0]]])}
    # terminal 0: satellite 0, channel 1, 0.17 W; terminal 1 local; terminal 2: satellite 1,
    # channel 0, power capped at P_IoT
    np.testing.assert_allclose(OptionGenome(TINY).encode(d), [[2, 0, 3, 0.17, 0, 0.2]])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4), min_size=3, max_size=3),
    st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=3, max_size=3),
)
def test_option_genome_decodes_to_structurally_feasible_decisions(options, powers):
    g = OptionGenome(TINY)
    d = g.decode(np.array([options + powers], dtype=float))
    a, p = d["offload"][0], d["power_w"][0]
    assert set(np.unique(a)) <= {0.0, 1.0} and np.all(a.sum(axis=0) <= 1)
    assert np.all(p >= 0) and np.all(p.sum(axis=1) <= TINY.params.p_max_w + 1e-12)
    assert np.all((p > 0).sum(axis=1) <= 1)  # one sub-channel per terminal
    assert np.all(p[a.sum(axis=0) == 0] == 0)
    # decoding what encode gives back reproduces the decision
    again = g.decode(g.encode(d))
    for k in d:
        np.testing.assert_array_equal(again[k], d[k])
    structural = {"offload_not_binary", "offloaded_to_multiple_satellites", "negative_power", "power_budget"}
    assert not structural & set(PROBLEM.evaluate(TINY, d).violations[0])


def test_flat_genome_is_the_decision_space_vector_with_repair():
    g = FlatGenome(PROBLEM, TINY)
    space = PROBLEM.decision_space(TINY)
    assert len(g.lo) == space.flat_size and g.integer.sum() == 2 * 3
    d = PROBLEM.random_decisions(TINY, np.random.default_rng(0), 5)
    np.testing.assert_array_equal(g.encode(d), space.encode(d))
    X = space.encode(d)
    X[:, :6] = 1.0  # every terminal claimed by both satellites: repair keeps one
    assert np.all(g.decode(X)["offload"].sum(axis=1) == 1)


def test_genome_choice():
    assert isinstance(genome_for(PROBLEM, TINY), OptionGenome)
    assert isinstance(genome_for(PROBLEM, TINY, "flat"), FlatGenome)
    with pytest.raises(InputError, match="option encoding.*scenario, flat"):
        genome_for(PROBLEM, TINY, "binary")
