"""Everything derived from one DecisionSpace agrees: Gymnasium space, JSON Schema, flat encoding, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.core.errors import InputError
from offloadlab.core.space import ArrayField, DecisionSpace

SPACE = DecisionSpace((ArrayField("offload", (2, 3), 0, 1, integer=True), ArrayField("power_w", (3, 2), 0.0, 0.5)))


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 5))
def test_encode_decode_round_trip(seed, batch):
    d = SPACE.sample(np.random.default_rng(seed), batch)
    flat = SPACE.encode(d)
    assert flat.shape == (batch, SPACE.flat_size)
    back = SPACE.decode(flat)
    for k in d:
        np.testing.assert_array_equal(back[k], d[k])


def test_flat_bounds_and_integrality():
    lo, hi = SPACE.flat_bounds
    assert lo.shape == hi.shape == (12,)
    assert hi[:6].tolist() == [1] * 6 and hi[6:].tolist() == [0.5] * 6
    assert SPACE.flat_integer.tolist() == [True] * 6 + [False] * 6


def test_gym_space_contains_samples():
    gs = SPACE.gym_space()
    s = SPACE.sample(np.random.default_rng(0))
    assert gs.contains({"offload": s["offload"].astype(np.int8), "power_w": s["power_w"].astype(np.float32)})


def test_json_schema_has_shapes_and_bounds():
    schema = SPACE.json_schema()
    off = schema["properties"]["offload"]
    assert off["minItems"] == 2 and off["items"]["minItems"] == 3
    assert off["items"]["items"] == {"type": "integer", "minimum": 0, "maximum": 1}
    assert schema["properties"]["power_w"]["items"]["items"]["maximum"] == 0.5
    assert schema["required"] == ["offload", "power_w"]


def test_validate_rejects_out_of_range_and_accepts_soft_fields():
    good = {"offload": [[0, 1, 0], [0, 0, 1]], "power_w": [[0.1, 0], [0, 0.2], [0, 0]]}
    SPACE.validate(good)
    with pytest.raises(InputError, match=r"decision.power_w: value 0.7 .* \[0, 0.5\]"):
        SPACE.validate({**good, "power_w": [[0.7, 0], [0, 0], [0, 0]]})
    soft = DecisionSpace((ArrayField("power_w", (1, 1), 0.0, 0.5, soft=True),))
    assert soft.validate({"power_w": [[0.7]]})["power_w"][0, 0] == 0.7  # a constraint, reported by evaluate
    with pytest.raises(InputError, match="outside"):
        soft.validate({"power_w": [[-0.1]]})
