"""Learning solvers: checkpoints save and reload, fixed seeds reproduce, the LLM layer is validated and replayable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.llm.backend import Reply
from offloadlab.llm.replay import RecordingBackend, ReplayBackend
from offloadlab.methods.dt_vehicular.icl import collect_cases, run_icl
from offloadlab.methods.dt_vehicular.marl import maddpg_policy, trained_agents
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

TINY = {"episodes": 2, "batch_size": 8, "hidden": [16, 16, 8], "progress": False}


@pytest.fixture(scope="module")
def instance_data():
    return PROBLEM.make_instance(4, "default", N=2, K=2, slots=6)


def test_marl_fixed_seed_is_reproducible_and_checkpoint_reloads(instance_data, tmp_path):
    ckpt = tmp_path / "marl_N{N}_df{delta_f}.pt"
    _, _, a = solve(instance_data, "marl", seed=5, checkpoint=str(ckpt), **TINY)
    _, _, b = solve(instance_data, "marl", seed=5, **TINY)
    assert a.objective == b.objective and np.array_equal(a.decision["omega"], b.decision["omega"])
    saved = tmp_path / "marl_N2_df0.0.pt"
    record = a.stats["training"]
    assert saved.is_file() and record["env_steps"] == 12 and record["updates"] > 0 and record["wall_s"] > 0
    assert len(record["episode_returns"]) == len(record["losses"]) == 2  # two episodes of 6 slots
    _, _, c = solve(instance_data, "marl", seed=99, checkpoint=str(ckpt), **TINY)  # reloaded: no training
    assert c.stats["loaded_checkpoint"] == str(saved) and c.stats["training"]["env_steps"] == 0
    assert c.objective == pytest.approx(a.objective, rel=1e-12)


def test_checkpoint_of_another_configuration_is_refused(instance_data, tmp_path):
    ckpt = tmp_path / "m.pt"
    solve(instance_data, "marl", seed=1, checkpoint=str(ckpt), **TINY)
    other = PROBLEM.make_instance(4, "default", N=3, K=2, slots=6)
    with pytest.raises(InputError, match="N=2, this run needs N=3"):
        solve(other, "marl", seed=1, checkpoint=str(ckpt), **TINY)
    with pytest.raises(InputError, match="not a field"):
        solve(instance_data, "marl", seed=1, checkpoint=str(tmp_path / "{lanes}.pt"), **TINY)


def test_sarl_reproducible_and_checkpoint_reloads(instance_data, tmp_path):
    opts = {"episodes": 3, "batch_size": 8, "hidden": [16, 16, 8], "progress": False}
    ckpt = tmp_path / "sarl.zip"
    _, _, a = solve(instance_data, "sarl", seed=2, checkpoint=str(ckpt), **opts)
    _, _, b = solve(instance_data, "sarl", seed=2, **opts)
    assert a.objective == b.objective
    _, _, c = solve(instance_data, "sarl", seed=7, checkpoint=str(ckpt), **opts)
    assert c.stats["training"]["env_steps"] == 0 and c.objective == pytest.approx(a.objective, rel=1e-12)
    for term in ("energy_j", "latency_s", "qos", "edge_energy_j", "resource_ratio"):
        assert np.isfinite(a.details[term])


class ScriptedBackend:
    """Answers from a script: a valid decision, an over-booked one, then text that is not JSON."""

    name, model = "scripted", "script"

    def __init__(self, n: int, k: int):
        good = {"omega_pct": [[100] * k] * n, "alpha_permille": [[100] * k] * n}
        over = {"omega_pct": [[50] * k] * n, "alpha_permille": [[900] * k] * n}
        self.answers = [json.dumps(good), json.dumps(over), "I think offloading is good."]
        self.calls = 0

    def complete(self, request, timeout_s):
        text = self.answers[self.calls % len(self.answers)]
        self.calls += 1
        return Reply(text, prompt_tokens=len(request.messages[0]["content"]) // 4, completion_tokens=20, seconds=0.0)


def test_llm_icl_validates_falls_back_and_replays(instance_data, tmp_path):
    inst = PROBLEM.load_instance(instance_data)
    rng = np.random.default_rng(0)
    agents, _ = trained_agents(
        inst,
        rng,
        None,
        episodes=1,
        checkpoint=None,
        hidden=[16, 16, 8],
        lr_actor=1e-3,
        lr_critic=1e-3,
        gamma=0.95,
        tau=0.01,
        batch_size=8,
        noise=0.2,
        progress=False,
    )
    marl = maddpg_policy(agents, 2)
    cases = collect_cases(inst.params, marl, np.random.default_rng(1), episodes=1)
    assert len(cases) == 6
    record = tmp_path / "calls.jsonl"
    backend = RecordingBackend(ScriptedBackend(2, 2), record)
    kwargs = {"neighbours": 2, "temperature": 0.0, "grow_cases": True}
    a = run_icl(PROBLEM, inst, np.random.default_rng(3), backend, cases, marl, **kwargs)
    # 6 slots: answers cycle valid, over-booked (scaled to capacity: repaired), not JSON (MARL fallback)
    assert a.stats["llm_calls"] == 6 and a.stats["fallbacks"] == 2 and a.stats["invalid_by_kind"] == {"not_json": 2}
    assert a.stats["repaired"] == 2
    assert a.details["decisions"]["share_whole"] > 0  # the scripted full offload was applied
    b = run_icl(PROBLEM, inst, np.random.default_rng(3), ReplayBackend(record), cases, marl, **kwargs)
    assert b.objective == a.objective and b.stats["fallbacks"] == 2
    prompt = json.loads(record.read_text().splitlines()[0])["request"]["messages"][0]["content"]
    assert "You are a mathematical tool to predict some models" in prompt and prompt.count("action:") == 3
    shown = json.loads(prompt.split("action: ")[1].splitlines()[0])  # a case's action in the answer format
    assert set(shown) == {"omega_pct", "alpha_permille"} and all(
        isinstance(v, int) for r in shown["omega_pct"] for v in r
    )


@pytest.mark.slow
def test_llm_icl_with_the_embedded_model(instance_data):
    # the real SmolLM2-135M through llama.cpp with schema-constrained answers: every answer must be usable
    data = {**instance_data, "params": {**instance_data["params"], "slots": 2}}
    _, _, res = solve(data, "llm-icl", seed=0, neighbours=1, case_episodes=1, **TINY)
    assert res.stats["llm_calls"] == 2 and res.stats["backend"] == "embedded"
    assert res.stats["fallbacks"] == res.stats["invalid_outputs"] == 0
