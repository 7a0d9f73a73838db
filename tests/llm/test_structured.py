"""Parsing, validation and repair of LLM answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.llm import LLMError, Request
from offloadlab.llm.formats import AnswerFormat, Choice, Scale
from offloadlab.llm.random_backend import RandomBackend
from offloadlab.llm.structured import (
    InvalidAnswer,
    answer_max_tokens,
    answer_schema,
    check_answer,
    parse_json,
)
from offloadlab.llm.templates import PromptBook
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from tests.llm.conftest import one_offloaded


def check(inst, obj, fmt=None):
    return check_answer(PROBLEM, inst, fmt or AnswerFormat(PROBLEM.decision_space(inst)), obj)


def per_terminal(inst):
    return AnswerFormat(PROBLEM.decision_space(inst), [Choice("offload", "target")])


@pytest.mark.parametrize("text", ['{"a": 1}', 'Sure! ```json\n{"a": 1}\n``` done', 'The answer is {"a": 1}.'])
def test_parse_json_finds_the_object(text):
    assert parse_json(text) == {"a": 1}


@pytest.mark.parametrize("text", ['{"offload": [[1, 0], [0', "no json here", ""])
def test_parse_json_rejects_truncated_or_missing(text):
    with pytest.raises(InvalidAnswer) as exc:
        parse_json(text)
    assert exc.value.kind == "not_json"


def test_valid_answer_is_kept_as_is(inst354):
    off, pw = one_offloaded(inst354)
    got = check(inst354, {"offload": off, "power_w": pw, "reasoning": "ignored"})
    assert got.repairs == []
    np.testing.assert_array_equal(got.decision["offload"], off)
    np.testing.assert_array_equal(got.decision["power_w"], pw)


def test_power_above_bound_is_clipped_and_budget_renormalised(inst354):
    off, pw = one_offloaded(inst354)
    pw[0] = [0.5, 0.1, 0.0, 0.0]  # 0.5 > P_max = 0.2: clip to 0.2, then the row sums to 0.3 > 0.2: rescale
    got = check(inst354, {"offload": off, "power_w": pw})
    assert [r.what for r in got.repairs] == ["clipped power_w", "renormalised power_w"]
    clip, norm = got.repairs
    assert (clip.values, clip.amount) == (1, pytest.approx(0.3))  # 0.5 -> 0.2
    # renormalised (and rounded down onto the 4-digit grid): 0.2 -> 0.1333, 0.1 -> 0.0666
    np.testing.assert_allclose(got.decision["power_w"][0], [0.1333, 0.0666, 0, 0])
    assert norm.values == 2 and norm.amount == pytest.approx(0.2 - 0.1333)
    assert str(norm) == "renormalised power_w: 2 value(s), by up to 0.0667"


def test_power_of_local_terminal_is_zeroed(inst354):
    off, pw = one_offloaded(inst354)
    pw[3] = [0.05, 0, 0, 0]  # terminal 3 computes locally: its power is meaningless
    got = check(inst354, {"offload": off, "power_w": pw})
    assert got.decision["power_w"][3].sum() == 0 and [r.what for r in got.repairs] == ["renormalised power_w"]
    assert (got.repairs[0].values, got.repairs[0].amount) == (1, 0.05)


@pytest.mark.parametrize(
    "mutate, kind",
    [
        (lambda d: d.update(offload=[[2] * 5] * 3), "out_of_range"),  # integer field: no clipping guess
        (lambda d: d.update(offload=[[0.5] * 5] * 3), "out_of_range"),  # not binary
        (lambda d: d.update(offload=[[0] * 4] * 3), "wrong_shape"),
        (lambda d: d.pop("power_w"), "wrong_shape"),
        (lambda d: d.update(power_w=[["0.1"] * 4] * 5), "wrong_shape"),  # strings are not numbers
        (lambda d: d.update(power_w=[[-0.1] * 4] * 5), None),  # clipped to 0: repaired, valid
        (lambda d: d.update(offload=[[1] * 5, [1] * 5, [0] * 5]), "constraint"),  # two satellites per terminal
    ],
)
def test_malformed_answers_are_rejected_with_their_kind(inst354, mutate, kind):
    off, pw = one_offloaded(inst354)
    obj = {"offload": off, "power_w": pw}
    mutate(obj)
    if kind is None:
        assert check(inst354, obj).repairs
        return
    with pytest.raises(InvalidAnswer) as exc:
        check(inst354, obj)
    assert exc.value.kind == kind
    assert "answer." in str(exc.value)  # names the field
    if kind == "constraint":  # names only the broken constraint
        assert "at most one satellite" in str(exc.value) and "deadline" not in str(exc.value)


def test_per_terminal_format_maps_targets_to_the_one_hot_matrix(inst354):
    fmt = per_terminal(inst354)
    off, pw = one_offloaded(inst354, terminal=2, satellite=1)
    got = check(inst354, {"target": [0, 0, 2, 0, 0], "power_w": pw}, fmt)
    np.testing.assert_array_equal(got.decision["offload"], off)
    assert fmt.space.constraints[0].startswith("total power") and len(fmt.space.constraints) == 2
    assert json.loads(fmt.text(got.decision))["target"] == [0, 0, 2, 0, 0]
    with pytest.raises(InvalidAnswer, match=r"answer.target: value 4 at index \[0\]") as exc:
        check(inst354, {"target": [4, 0, 0, 0, 0], "power_w": pw}, fmt)
    assert exc.value.kind == "out_of_range"


def test_non_object_answer_is_wrong_shape(inst354):
    with pytest.raises(InvalidAnswer) as exc:
        check(inst354, [1, 2, 3])
    assert exc.value.kind == "wrong_shape"


def test_schema_is_closed_and_carries_bounds(inst354):
    space = PROBLEM.decision_space(inst354)
    schema = answer_schema(space)
    assert schema["additionalProperties"] is False and schema["required"] == ["offload", "power_w"]
    power_item = schema["properties"]["power_w"]["items"]["items"]
    assert power_item["minimum"] == 0 and power_item["maximum"] == inst354.params.p_max_w
    assert answer_schema(space, ["power_w"])["required"] == ["power_w"]
    assert answer_max_tokens(space) > 3 * 15 + 9 * 20


def test_quantised_decision_round_trips_through_its_text(inst354):
    space = PROBLEM.decision_space(inst354)
    batch = AnswerFormat(space).quantise(PROBLEM.random_decisions(inst354, np.random.default_rng(0), 20))
    assert (batch["power_w"].sum(axis=-1) <= inst354.params.p_max_w).all()
    for b in range(20):
        d = {k: v[b] for k, v in batch.items()}
        for fmt in (AnswerFormat(space), per_terminal(inst354)):
            back = check(inst354, json.loads(fmt.text(d)), fmt).decision
            np.testing.assert_array_equal(back["power_w"], d["power_w"])
            np.testing.assert_array_equal(back["offload"], d["offload"])


def test_shipped_format_writes_power_as_integer_milliwatts(inst354):
    fmt = PromptBook(PROBLEM.manifest.prompt_dir, "expert").answer_format(PROBLEM.decision_space(inst354))
    field = {f.name: f for f in fmt.space.fields}["power_mw"]
    assert field.integer and (field.low, field.high) == (0, np.floor(inst354.params.p_max_w * 1000))
    answer = {"target": [0, 2, 0, 1, 0], "power_mw": [[0, 0, 0, 0], [71, 26, 0, 0], [0] * 4, [5, 0, 0, 90], [0] * 4]}
    decision = check(inst354, answer, fmt).decision
    np.testing.assert_allclose(decision["power_w"][1], [0.071, 0.026, 0, 0])
    np.testing.assert_array_equal(decision["offload"][:, 3], [1, 0, 0])
    assert json.loads(fmt.text(decision)) == answer


def test_scaled_quantisation_rounds_down_onto_the_grid(inst354):
    fmt = AnswerFormat(
        PROBLEM.decision_space(inst354), [Choice("offload", "target")], [Scale("power_w", "power_mw", 1000)]
    )
    batch = fmt.quantise(PROBLEM.random_decisions(inst354, np.random.default_rng(1), 30))
    assert np.allclose(batch["power_w"] * 1000, np.round(batch["power_w"] * 1000))
    assert (batch["power_w"].sum(axis=-1) <= inst354.params.p_max_w + 1e-12).all()
    d = {k: v[3] for k, v in batch.items()}
    np.testing.assert_allclose(check(inst354, json.loads(fmt.text(d)), fmt).decision["power_w"], d["power_w"])


def test_only_real_fields_can_be_scaled(inst354):
    with pytest.raises(InputError, match="offload"):
        AnswerFormat(PROBLEM.decision_space(inst354), scales=[Scale("offload", "o", 10)])


def test_random_control_draws_valid_answers_from_the_schema(inst354):
    fmt = PromptBook(PROBLEM.manifest.prompt_dir, "expert").answer_format(PROBLEM.decision_space(inst354))
    request = Request(({"role": "user", "content": "x"},), schema=answer_schema(fmt.space), seed=3, n=4)
    reply = RandomBackend().complete(request, 1.0)
    answers = [json.loads(t) for t in reply.texts]
    assert len(answers) == 4 and answers[0] != answers[1]
    for a in answers:
        assert set(a) == {"target", "power_mw"} and all(0 <= t <= 3 for t in a["target"])
        assert np.asarray(a["power_mw"]).shape == (5, 4) and 0 <= np.min(a["power_mw"]) <= np.max(a["power_mw"]) <= 200
        check(inst354, a, fmt)  # usable (power renormalised where its sum is over budget)
    assert RandomBackend().complete(request, 1.0).texts == reply.texts  # seeded by the request
    with pytest.raises(LLMError, match="structured"):
        RandomBackend().complete(Request(({"role": "user", "content": "x"},)), 1.0)
