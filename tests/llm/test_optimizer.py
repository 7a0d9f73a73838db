"""Algorithm 1 of seed 000 on a scripted in-process backend: pool updates, prompt roles, stops, accounting."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.llm.templates import PromptBook, wordings
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from offloadlab.solvers.llm_opro import Settings, optimize
from tests.llm.conftest import GuardedProblem, ScriptedBackend, answer

# A good decision for the (3, 5, 4) instance of seed 1 (rounded from the reference solver's answer).
GOOD = answer([[1, 0, 0, 0, 1], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]],
              [[0, 0.19, 0.01, 0], [0, 0.04, 0, 0.16], [0, 0, 0.2, 0], [0.2, 0, 0, 0], [0, 0, 0, 0.2]])
LOCAL = answer(np.zeros((3, 5)), np.zeros((5, 4)))


def run(inst, script, wording="expert", **settings):
    backend = ScriptedBackend(script)
    problem = GuardedProblem()
    res = optimize(problem, inst, None, np.random.default_rng(0), backend, PromptBook(problem.manifest.prompt_dir, wording),
                   Settings(**settings))
    return res, backend, problem


def test_algorithm_1_roles_pool_and_patience(inst354):
    res, backend, problem = run(inst354, [GOOD, GOOD, LOCAL, "oops", "{", '{"offload": 1}'],
                                patience=3, answer_retries=2)
    traj = res.details["trajectory"]
    assert [t["prompt"] for t in traj] == ["task", "task", "reminder", "expert"]
    assert [t["outcome"] for t in traj] == ["valid", "valid", "valid", "invalid"]
    assert traj[0]["objective"] < res.stats["initial_objective"]
    assert traj[1]["objective"] == traj[0]["objective"] == res.objective  # the repeat ties: no update
    assert traj[3]["objective"] == float("inf") and traj[3]["llm_calls"] == 3
    st = res.stats
    assert st["stop_reason"] == "patience" and st["improvements"] == 1 and st["iterations"] == 4
    assert st["invalid_outputs"] == 3 and st["invalid_by_kind"] == {"not_json": 2, "wrong_shape": 1}
    assert st["retried"] == 2 and st["llm_calls"] == 6
    assert (st["prompt_tokens"], st["completion_tokens"]) == (600, 120)
    # prompts: the reminder after the repeat, the expert prompt after the worse answer, retries carry the error
    texts = [r.messages[-1]["content"] for r in backend.requests]
    assert "Reminder" in texts[2] and "Expert advice" in texts[3] and "Expert advice" not in texts[2]
    assert backend.requests[4].messages[1] == {"role": "assistant", "content": "oops"}
    assert "could not be used" in texts[4] and "not a complete JSON object" in texts[4]
    assert [r.purpose for r in backend.requests[3:]] == ["generate", "retry", "retry"]
    # the pool shows the examples sorted worst to best, the best last
    prompt = backend.requests[1].messages[0]["content"]
    assert prompt.index(f"{round(st['initial_objective'], 5)} s") < prompt.index(f"{round(res.objective, 5)} s")
    # evaluations: the initial random draws, the three valid answers and the final re-evaluation;
    # never the invalid ones (GuardedProblem fails the test if it is handed one)
    assert problem.evaluated == st["evaluations"] + 1
    assert res.history[-1].llm_calls == 6 and res.history[-1].llm_tokens == 720


def test_every_answer_is_constrained_by_the_closed_schema(inst354):
    _, backend, _ = run(inst354, [GOOD], iterations=1)
    schema = backend.requests[0].schema
    assert schema["additionalProperties"] is False and set(schema["properties"]) == {"offload", "power_w"}
    assert backend.requests[0].temperature == 1.0 and backend.requests[0].seed is not None


def test_without_structured_output_the_extraction_prompts_pull_out_each_field(inst354):
    script = ["I would offload terminals 0 and 4 to satellite 0 ...",
              '{"offload": [[1,0,0,0,1],[0,1,1,1,0],[0,0,0,0,0]]}',
              '{"power_w": [[0,0.19,0.01,0],[0,0.04,0,0.16],[0,0,0.2,0],[0.2,0,0,0],[0,0,0,0.2]]}']
    res, backend, _ = run(inst354, script, iterations=1, structured=False)
    assert [r.purpose for r in backend.requests] == ["generate", "extract", "extract"]
    assert backend.requests[0].schema is None
    assert backend.requests[1].schema["required"] == ["offload"]
    assert "I would offload" in backend.requests[2].messages[0]["content"]
    assert res.details["trajectory"][0]["outcome"] == "valid" and res.stats["improvements"] == 1


def test_token_budget_ends_the_run_gracefully(inst354):
    res, backend, _ = run(inst354, [LOCAL] * 10, llm_token_budget=200, patience=50)
    assert res.stats["stop_reason"] == "token_budget" and res.stats["llm_calls"] == 2 and res.feasible


def test_repaired_answers_are_counted_and_used(inst354):
    over = answer([[1, 0, 0, 0, 1], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]],
                  [[0, 0.5, 0.01, 0], [0, 0.04, 0, 0.16], [0, 0, 0.2, 0], [0.2, 0, 0, 0], [0, 0, 0, 0.2]])
    res, _, _ = run(inst354, [over], iterations=1)
    assert res.stats["repaired"] == 1 and res.details["trajectory"][0]["outcome"] == "repaired"


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 10, 4), (6, 20, 8)])
def test_every_wording_renders_for_any_size(shape):
    M, N, I = shape
    inst = generate_instance(make_params("default", M=M, N=N, I=I), seed=0)
    ctx = {**PROBLEM.describe(inst), "examples": [{"json": "{}", "objective": 0.5}], "last_objective": None,
           "best_objective": 0.5}
    folder = PROBLEM.manifest.prompt_dir
    assert set(wordings(folder)) >= {"expert", "plain"}
    for wording in wordings(folder):
        book = PromptBook(folder, wording)
        task = book.render("task", **ctx)
        assert f"{M} x {N}" in task or f"{M} rows of {N}" in task
        assert book.render("expert", **ctx) and book.render("reminder", **ctx)


def test_unknown_wording_is_an_input_error():
    with pytest.raises(InputError, match="prompt"):
        PromptBook(PROBLEM.manifest.prompt_dir, "poetic")
