"""Algorithm 1 of seed 000 on a scripted in-process backend: pool updates, prompt roles, stops, accounting."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.llm import LLMError, LLMOptions
from offloadlab.llm.templates import PromptBook, wordings
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from offloadlab.solvers.llm_opro import Settings, optimize
from tests.llm.conftest import GuardedProblem, ScriptedBackend, answer, targets

# A good decision for the (3, 5, 4) instance of seed 1 (rounded from the reference solver's answer), in the
# paper's one-hot format and in the default per-terminal format.
POWER = [[0, 0.19, 0.01, 0], [0, 0.04, 0, 0.16], [0, 0, 0.2, 0], [0.2, 0, 0, 0], [0, 0, 0, 0.2]]
GOOD_PAPER = answer([[1, 0, 0, 0, 1], [0, 1, 1, 1, 0], [0, 0, 0, 0, 0]], POWER)
GOOD = targets([1, 2, 2, 2, 1], POWER)
LOCAL = targets([0] * 5, np.zeros((5, 4)))
LATE = targets([3, 3, 3, 3, 3], np.full((5, 4), 0.05))  # everyone on the far satellite 3: deadlines missed


def run(inst, script, wording="expert", **options):
    """Algorithm 1 on a scripted backend; options go to LLMOptions or to the optimizer's Settings by name."""
    backend = ScriptedBackend(script)
    problem = GuardedProblem()
    llm = LLMOptions(**{k: v for k, v in options.items() if k in LLMOptions.model_fields})
    settings = Settings(**{k: v for k, v in options.items() if k not in LLMOptions.model_fields})
    res = optimize(
        problem,
        inst,
        None,
        np.random.default_rng(0),
        backend,
        PromptBook(problem.manifest.prompt_dir, wording),
        settings,
        llm,
    )
    return res, backend, problem


def test_algorithm_1_roles_pool_feedback_and_patience(inst354):
    res, backend, problem = run(
        inst354, [GOOD, GOOD, LATE, "oops", "{", '{"offload": 1}'], patience=3, answer_retries=2
    )
    traj = res.details["trajectory"]
    assert [t["prompt"] for t in traj] == ["task", "task", "reminder", "expert"]
    assert [t["outcome"] for t in traj] == ["valid", "valid", "valid", "invalid"]
    assert traj[0]["objective"] < res.stats["initial_objective"]
    assert traj[1]["objective"] == traj[0]["objective"] == res.objective  # the repeat ties: no update
    assert traj[2]["objective"] == float("inf") and traj[3]["llm_calls"] == 3
    st = res.stats
    assert st["stop_reason"] == "patience" and st["improvements"] == 1 and st["iterations"] == 4
    assert st["invalid_outputs"] == 3 and st["invalid_by_kind"] == {"not_json": 2, "wrong_shape": 1}
    assert st["retried"] == 2 and st["llm_calls"] == 6 and st["usable_answers"] == 3
    assert (st["prompt_tokens"], st["completion_tokens"]) == (600, 120)
    texts = [r.messages[-1]["content"] for r in backend.requests]
    # the reminder after the repeat; after the infeasible answer, the expert prompt names the late terminals
    assert "Reminder" in texts[2] and "Expert advice" in texts[3] and "Expert advice" not in texts[2]
    assert "was infeasible: terminal 1 misses the 1 s deadline: " in texts[3]
    # a retry carries the answer and names only what was wrong with it, not every constraint
    assert backend.requests[4].messages[1] == {"role": "assistant", "content": "oops"}
    assert "could not be used" in texts[4] and "not a complete JSON object" in texts[4]
    assert "deadline" not in texts[4] and '"target" (5 integers in [0, 3])' in texts[4]
    assert [r.purpose for r in backend.requests[3:]] == ["generate", "retry", "retry"]
    # the pool shows the examples sorted worst to best, the best last
    prompt = backend.requests[1].messages[0]["content"]
    assert prompt.index(f"{round(st['initial_objective'], 5)} s") < prompt.index(f"{round(res.objective, 5)} s")
    # evaluations: the 100 start-up draws and all-local (counted apart), the three usable answers (the LLM's
    # evaluations) and the final re-evaluation; never an invalid one (GuardedProblem would fail the test)
    assert st["startup_evaluations"] == 101 and st["evaluations"] == st["proposed_evaluations"] == 3
    assert problem.evaluated == 101 + 3 + 1
    assert res.history[0].evaluations == 0 and res.history[0].best_objective == st["initial_objective"]
    assert res.history[-1].llm_calls == 6 and res.history[-1].llm_tokens == 720


def test_every_answer_is_constrained_by_the_closed_per_terminal_schema(inst354):
    _, backend, _ = run(inst354, [GOOD], iterations=1)
    schema = backend.requests[0].schema
    assert schema["additionalProperties"] is False and set(schema["properties"]) == {"target", "power_mw"}
    assert schema["properties"]["target"]["items"] == {"type": "integer", "minimum": 0, "maximum": 3}
    assert backend.requests[0].temperature == 1.0 and backend.requests[0].seed is not None


def test_the_papers_wording_keeps_the_one_hot_matrix(inst354):
    res, backend, _ = run(inst354, [GOOD_PAPER], "paper", iterations=1)
    assert set(backend.requests[0].schema["properties"]) == {"offload", "power_w"}
    assert "offload[m][n] = 1 if terminal n offloads" in backend.requests[0].messages[0]["content"]
    # the same decision as GOOD in the per-terminal format
    res2, _, _ = run(inst354, [GOOD], iterations=1)
    assert res.objective == res2.objective < res.stats["initial_objective"]


def test_a_terminal_cannot_be_sent_to_two_satellites_in_the_default_format(inst354):
    res, _, _ = run(inst354, [GOOD_PAPER, GOOD], iterations=1, answer_retries=1)  # the one-hot answer is wrong here
    assert res.stats["invalid_by_kind"] == {"wrong_shape": 1} and res.stats["improvements"] == 1


def test_the_prompt_shows_per_link_quality(inst354):
    _, backend, _ = run(inst354, [GOOD], iterations=1)
    prompt = backend.requests[0].messages[0]["content"]
    facts = PROBLEM.describe(inst354)
    assert f"terminal 5: {round(facts['data_bits'][4] * 1.25e-7, 3)} MB" in prompt and "SNR sat 1 [" in prompt
    # upload alone at full power on the best sub-channel: size / (B log2(1 + max_i SNR))
    p = inst354.params
    snr = p.p_max_w * inst354.gain[1, 0].max() / inst354.noise_w
    assert facts["upload_s"][0][1] == pytest.approx(inst354.data_bits[0] / (p.bandwidth_hz * np.log2(1 + snr)))


def test_pool_starts_paper_and_default(inst354):
    paper, _, _ = run(inst354, [LOCAL], iterations=1, pool_start="paper")
    default, _, _ = run(inst354, [LOCAL], iterations=1)
    assert paper.stats["startup_evaluations"] == 100 and default.stats["startup_evaluations"] == 101
    local = float(
        PROBLEM.evaluate(inst354, {k: v[None] for k, v in PROBLEM.local_decision(inst354).items()}).objective[0]
    )
    assert default.stats["initial_objective"] <= local
    assert (
        paper.stats["initial_objective"] == default.stats["initial_objective"]
        or local < paper.stats["initial_objective"]
    )


def test_nothing_feasible_at_start_is_stated_not_hidden():
    inst = generate_instance(make_params("paper", M=3, N=20, I=4), seed=0)  # tiny power: nothing offloads in time
    res, backend, _ = run(
        inst, [targets([0] * 20, np.zeros((20, 4)))], iterations=1, pool_start="paper", initial_samples=20
    )
    assert res.stats["initial_feasible"] == 0 and res.stats["initial_objective"] == float("inf")
    assert "None is feasible yet." in backend.requests[0].messages[0]["content"]
    assert res.feasible and res.stats["improvements"] == 1  # the LLM's all-local answer is the result


def test_several_samples_per_prompt(inst354):
    res, backend, problem = run(inst354, [LATE, GOOD, LOCAL], iterations=1, samples=3)
    assert [r.n for r in backend.requests] == [3, 2, 1]  # the scripted backend answers one at a time
    assert res.stats["evaluations"] == 3 and res.details["trajectory"][0]["proposals"] == 3
    assert res.stats["improvements"] == 1 and res.objective == res.details["trajectory"][0]["best"]


def test_a_run_without_one_usable_answer_fails(inst354):
    with pytest.raises(LLMError, match="no usable answer in 3 calls"):
        run(inst354, ["no", "no", "no"], iterations=1, answer_retries=2)


def test_without_structured_output_fields_in_the_text_need_no_further_call(inst354):
    script = [
        'I would offload: target: [1,2,2,2,1] and "power_mw": [[0,190,10,0],[0,40,0,160],[0,0,200,0],'
        "[200,0,0,0],[0,0,0,200]] which balances the load."
    ]
    res, backend, _ = run(inst354, script, iterations=1, structured="off")
    assert [r.purpose for r in backend.requests] == ["generate"]
    assert res.details["trajectory"][0]["outcome"] == "valid" and res.stats["improvements"] == 1


def test_without_structured_output_one_follow_up_keeps_the_main_prompt_as_prefix(inst354):
    script = [
        "I would offload terminals 1 and 5 to satellite 1, target: [1,2,2,2,1] ...",
        '{"power_mw": [[0,190,10,0],[0,40,0,160],[0,0,200,0],[200,0,0,0],[0,0,0,200]]}',
    ]
    res, backend, _ = run(inst354, script, iterations=1, structured="off")
    main, follow = backend.requests
    assert [r.purpose for r in backend.requests] == ["generate", "extract"]
    assert all(r.schema is None for r in backend.requests)
    # the follow-up extends the main conversation: its first messages are the main prompt, unchanged
    assert follow.messages[: len(main.messages)] == main.messages
    assert follow.messages[-2] == {"role": "assistant", "content": script[0]}
    assert '"power_mw"' in follow.messages[-1]["content"] and '"target"' not in follow.messages[-1]["content"]
    assert res.details["trajectory"][0]["outcome"] == "valid" and res.stats["improvements"] == 1
    assert res.stats["structured_mode"] == "off" and res.stats["structured_enforced"] is False


def test_token_budget_ends_the_run_gracefully(inst354):
    res, backend, _ = run(inst354, [GOOD] * 10, token_budget=200, patience=50)
    assert res.stats["stop_reason"] == "token_budget" and res.stats["llm_calls"] == 2 and res.feasible


def test_repaired_answers_are_counted_and_used(inst354):
    over = targets([1, 2, 2, 2, 1], [[0, 0.5, 0.01, 0], *POWER[1:]])
    res, _, _ = run(inst354, [over], iterations=1)
    assert res.stats["repaired"] == 1 and res.details["trajectory"][0]["outcome"] == "repaired"


def test_a_system_message_goes_first(inst354):
    _, backend, _ = run(inst354, [GOOD], iterations=1, system="Answer in JSON.")
    assert backend.requests[0].messages[0] == {"role": "system", "content": "Answer in JSON."}


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 10, 4), (6, 20, 8)])
def test_every_wording_renders_for_any_size(shape):
    M, N, I = shape
    inst = generate_instance(make_params("default", M=M, N=N, I=I), seed=0)
    ctx = {
        **PROBLEM.describe(inst),
        "examples": [{"json": "{}", "objective": 0.5}],
        "last_objective": None,
        "best_objective": 0.5,
        "feedback": "terminal 1 misses the 1 s deadline: 1.2 s",
    }
    folder = PROBLEM.manifest.prompt_dir
    assert set(wordings(folder)) == {"expert", "paper", "plain"}
    for wording in wordings(folder):
        book = PromptBook(folder, wording)
        task = book.render("task", **ctx)
        assert f"{M} rows of {N}" in task if wording == "paper" else f"{N} integers" in task
        assert book.render("expert", **ctx) and book.render("reminder", **ctx)


def test_unknown_wording_is_an_input_error():
    with pytest.raises(InputError, match="prompt"):
        PromptBook(PROBLEM.manifest.prompt_dir, "poetic")
