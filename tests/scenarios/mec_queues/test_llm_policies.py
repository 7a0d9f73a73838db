"""LLM policies of mec-queues (scripted and replayed backends; the real model and training are slow) and the
generic ``offloadlab train`` command with its mec-queues trainers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from itertools import cycle

import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401  (registers the scenario, solvers and trainers)
from offloadlab.core.errors import InputError, UnknownNameError
from offloadlab.core.registry import get_solver, solvers_for
from offloadlab.core.run import solve
from offloadlab.core.trainers import get_trainer, trainers_for
from offloadlab.llm import LLMError, Reply, Request, make_client, parse_llm_options
from offloadlab.llm.replay import RecordingBackend
from offloadlab.methods.mec_queues import training
from offloadlab.methods.mec_queues.llm_policies import EVAL_MAX_TOKENS, LLMPolicy, play_llm, trained_model
from offloadlab.scenarios.mec_queues.comllm import comllm_oracle
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from offloadlab.scenarios.mec_queues.text import action_name, parse_input

LLM_SOLVERS = ("llm-zero-shot", "llm-sft", "llm-grpo", "comllm")
PLUGIN_ENV = {**os.environ, "OFFLOADLAB_PLUGINS": "offloadlab.papers.mec_queues.plugin"}
CLI = [sys.executable, "-m", "offloadlab"]


class Scripted:
    """A backend answering from a script: ``oracle`` (the argmin of the one-step cost, read back from the
    prompt's state) or fixed texts in turn; it records the prompts it saw."""

    name = "scripted"
    model = "script"

    def __init__(self, texts: list[str] | None = None):
        self.texts = cycle(texts) if texts else None
        self.requests: list[Request] = []

    def complete(self, request: Request, timeout_s: float) -> Reply:
        self.requests.append(request)
        if self.texts is not None:
            return Reply(next(self.texts), 100, 5, 0.0, self.model)
        state = parse_input(request.messages[-1]["content"])
        return Reply(action_name(comllm_oracle(state)), 100, 5, 0.0, self.model)


@pytest.fixture(scope="module")
def inst():
    return PROBLEM.load_instance(PROBLEM.make_instance(3, "comllm", devices=4, servers=6, slots=12))


def play(inst, backend, seed: int = 0, budget: int | None = None, **opts):
    llm = parse_llm_options({"temperature": 0.7, "answer_retries": 0, **opts})
    return play_llm(inst, make_client(llm, backend), llm, np.random.default_rng(seed), budget, True)


def test_registered_as_llm_methods():
    table = solvers_for("mec-queues")
    for name in LLM_SOLVERS:
        assert table[name].budget_unit == "llm_calls" and table[name].smoke.slow
    assert set(trainers_for("mec-queues")) == {"sft", "grpo", "comllm"}


def test_scripted_oracle_reproduces_comllm_oracle(inst):
    res = play(inst, Scripted())
    oracle = get_solver("mec-queues", "comllm-oracle").fn(PROBLEM, inst, None, np.random.default_rng(0))
    assert np.array_equal(res.decision["actions"], oracle.decision["actions"])
    assert res.objective == pytest.approx(oracle.objective)
    ol = res.details["open_loop"]
    assert ol["performance_ratio_pct"] == pytest.approx(100.0) and ol["parse_failures"] == 0
    assert ol["mean_cost_slots"] == pytest.approx(oracle.details["open_loop"]["mean_cost_slots"])
    tasks = int((inst.arrivals > 0).sum())
    assert res.stats["closed_tasks"] == tasks and res.stats["closed_unusable"] == 0
    assert res.stats["llm_calls"] == tasks + res.stats["open_tasks"]


def test_prompt_and_sampling_are_the_authors(inst):
    backend = Scripted()
    play(inst, backend)
    req = backend.requests[0]
    assert [m["role"] for m in req.messages] == ["system", "user"]
    assert "Edge server 6:" in req.messages[-1]["content"] and "Edge server 7" not in req.messages[-1]["content"]
    assert req.temperature == 0.7 and req.max_tokens == EVAL_MAX_TOKENS and req.schema is None


def test_unparseable_and_absent_server_are_counted_per_world(inst):
    # cycle: server 2, junk, local, server 9 (absent at 6 servers)
    res = play(inst, Scripted(["Offload to edge server 2", "I cannot decide.", "Execute locally", "server 9"]))
    tasks = int((inst.arrivals > 0).sum())
    closed = [(2, 0, 0, 0)[k % 4] for k in range(tasks)]  # junk and the absent server run locally
    assert np.asarray(res.decision["actions"])[inst.arrivals > 0].tolist() == closed
    junk = len(range(1, tasks, 4))
    absent = len(range(3, tasks, 4))
    assert res.stats["closed_unparseable_answers"] == junk and res.stats["closed_absent_server"] == absent
    assert res.stats["closed_unusable"] == junk + absent
    n_open = res.stats["open_tasks"]
    script = [(tasks + k) % 4 for k in range(n_open)]  # the script goes on where the closed loop left it
    ol = res.details["open_loop"]
    # open loop: junk removed (parse failure), the absent server scored 5.0 slots as the authors do
    assert ol["parse_failures"] == script.count(1) == res.stats["open_unparseable_answers"]
    assert ol["samples"] == n_open and res.stats["open_absent_server"] == script.count(3)
    assert ol["choice_counts"][0] == script.count(2) and ol["choice_counts"][2] == script.count(0)


def test_answer_retries_reask_with_a_new_seed(inst):
    backend = Scripted(["??", "Offload to edge server 1"])
    res = play(inst, backend, answer_retries=1)
    assert res.stats["closed_unusable"] == 0 and res.stats["closed_unparseable_answers"] == res.stats["closed_tasks"]
    assert backend.requests[0].seed != backend.requests[1].seed
    assert set(np.asarray(res.decision["actions"])[inst.arrivals > 0].tolist()) == {1}


def test_budget_caps_calls_and_the_rest_falls_back(inst):
    res = play(inst, Scripted(["Offload to edge server 3"]), budget=5)
    assert res.stats["llm_calls"] == 5 and res.stats["stop_reason"] == "budget"
    acts = np.asarray(res.decision["actions"])[inst.arrivals > 0]
    assert acts[:5].tolist() == [3] * 5 and set(acts[5:].tolist()) == {0}
    assert res.stats["closed_unanswered"] == acts.size - 5
    assert res.details["open_loop"]["parse_failures"] == res.stats["open_tasks"]


def test_no_answer_at_all_is_an_error(inst):
    class Down:
        name, model = "down", "x"

        def complete(self, request, timeout_s):
            raise LLMError("llm (down)", "cannot reach the server")

    with pytest.raises(LLMError, match="cannot reach"):
        play(inst, Down())


def test_replayed_recording_gives_the_same_run(inst, tmp_path):
    """Record a scripted run, then replay it through the registered solver (same seed -> same requests)."""
    rec = tmp_path / "rec.jsonl"
    first = play(inst, RecordingBackend(Scripted(), rec))
    fn = get_solver("mec-queues", "llm-zero-shot").fn
    again = fn(PROBLEM, inst, None, np.random.default_rng(0), llm_replay=str(rec))
    assert np.array_equal(again.decision["actions"], first.decision["actions"])
    assert again.details["open_loop"] == first.details["open_loop"]
    trained = get_solver("mec-queues", "comllm").fn(
        PROBLEM, inst, None, np.random.default_rng(0), llm_replay=str(rec), state="paper", answer="paper"
    )
    assert np.array_equal(trained.decision["actions"], first.decision["actions"])


def test_policy_world_switch(inst):
    policy = LLMPolicy(
        make_client(parse_llm_options({}), Scripted(["junk"])), parse_llm_options({}), np.random.default_rng(0), None
    )
    from offloadlab.scenarios.mec_queues.sim import QueueSim

    sim = QueueSim(inst.params, inst.arrivals)
    while not (inst.arrivals[sim.t] > 0).any():
        sim.step(np.zeros(sim.D, dtype=np.int64))
    has = inst.arrivals[sim.t] > 0
    assert set(policy(sim)[has].tolist()) == {0}
    policy.world = "open"
    assert set(policy(sim)[has].tolist()) == {-1}


def test_trained_model_missing_or_wrong_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("OFFLOADLAB_TRAIN_DIR", str(tmp_path))
    with pytest.raises(InputError, match=r"option model: '.*mec-queues/grpo/model.gguf' not found"):
        trained_model("grpo", None)
    bad = tmp_path / "x.gguf"
    bad.write_text("not a model")
    with pytest.raises(InputError, match="is not a GGUF file"):
        trained_model("sft", str(bad))
    data = PROBLEM.make_instance(0, "comllm", devices=2, servers=6, slots=3)
    with pytest.raises(InputError, match="x.gguf' is not a GGUF"):
        solve(data, "llm-sft", 0, None, model=str(bad), state="paper", answer="paper")
    with pytest.raises(InputError, match="option llm_model"):
        solve(data, "llm-sft", 0, None, llm_model="smollm2")


def test_training_stats_from_the_summary(tmp_path):
    gguf = tmp_path / "comllm" / "model.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF" + bytes(8))
    meta = {
        "method": "comllm",
        "profile": "cpu",
        "adapter": "a",
        "label": "comllm-oracle",
        "train_records": 64,
        "trained_servers": 6,
        "steps": 8,
        "wall_s": 100.0,
        "sft_steps": 30,
        "sft_wall_s": 50.5,
    }
    (gguf.parent / training.META_FILE).write_text(json.dumps(meta))
    path, found = trained_model("comllm", str(gguf))
    from offloadlab.methods.mec_queues.llm_policies import training_stats

    stats = training_stats(path, found)
    assert stats["training_steps"] == "sft 30 + comllm 8" and stats["training_seconds"] == pytest.approx(150.5)
    assert stats["trained_servers"] == 6 and stats["train_records"] == 64


# -- training -----------------------------------------------------------------------------------------------


def test_training_records_are_seeded_six_server_records():
    data = training.DataSettings(records=20, devices=3, slots=20)
    recs = training.training_records(data, 20)
    assert len(recs) == 20 and recs == training.training_records(data, 20)
    assert all(sum(k.startswith("Edge server") for k in r["input"]) == 6 for r in recs)
    for r in recs:  # the label is the argmin of the one-step cost on the record's own text
        assert r["output"]["action_name"] == action_name(comllm_oracle(parse_input(r["input"])))


def test_reward_reads_the_record_state():
    rec = training.training_records(training.DataSettings(records=1, devices=3, slots=10), 1)[0]
    reward = training.record_reward("grpo", 0.3, 0)
    assert reward(rec, rec["output"]["action_name"]) > reward(rec, "no idea")
    assert reward(rec, "no idea") == pytest.approx(0.8 * -10 + 0.2 * (0.5 - 2))


def test_bad_training_config_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="config.data.label"):
        training.train("sft", tmp_path, "cpu-long", config={"data": {"label": "random"}})
    with pytest.raises(InputError, match="finetune.sft.max_steps"):
        training.train("sft", tmp_path, "cpu-long", config={"finetune": {"sft": {"max_steps": 0}}})
    with pytest.raises(InputError, match="config.extra"):
        training.train("sft", tmp_path, config={"extra": 1})
    with pytest.raises(InputError, match="config.data.servers"):
        training.train("sft", tmp_path, config={"data": {"servers": 27}})  # letters name at most 26
    with pytest.raises(InputError, match="name_pool"):
        training.train("sft", tmp_path, config={"data": {"servers": 8, "name_pool": 6}})
    with pytest.raises(UnknownNameError):
        get_trainer("mec-queues", "ppo")


def test_unfinished_stage_needs_resume(tmp_path):
    (tmp_path / "sft").mkdir()
    (tmp_path / "sft" / "run.json").write_text(json.dumps({"done": False}))
    with pytest.raises(InputError, match="--resume: .* unfinished training run"):
        training.train("grpo", tmp_path, "cpu-long", config={"data": {"records": 2, "devices": 2, "slots": 5}})


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--method", "sft", "--config", "CFG"],
            "error: config.data.train_episodes: Input should be greater than or equal to 1",
        ),
        (["--method", "ppo"], "error: unknown training method for mec-queues 'ppo'"),
        (["--method", "sft", "--profile", "gpu"], "error: profile: must be one of cpu, cpu-long, paper"),
        (["--method", "sft", "--config", "MISSING"], "error: config"),
    ],
)
def test_train_cli_bad_config_exits_2_in_one_line(tmp_path, args, message):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"data": {"train_episodes": 0}}))
    args = [str(cfg) if a == "CFG" else str(tmp_path / "nope.json") if a == "MISSING" else a for a in args]
    proc = subprocess.run(
        [*CLI, "train", "mec-queues", *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=PLUGIN_ENV,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.startswith(message) and proc.stderr.count("\n") == 1


def test_train_cli_unknown_scenario_exits_2(tmp_path):
    proc = subprocess.run(
        [*CLI, "train", "nowhere", "--method", "sft", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=PLUGIN_ENV,
        timeout=120,
    )
    assert proc.returncode == 2 and "unknown scenario with trainers 'nowhere'" in proc.stderr


TINY = {
    "data": {"records": 4, "devices": 3, "slots": 10},
    "finetune": {"sft": {"max_steps": 4, "save_steps": 2}, "grpo": {"max_steps": 1, "save_steps": 1}},
}


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_train_interrupted_resumes_and_the_policy_loads_the_gguf(tmp_path):
    """Real SFT on SmolLM2 through the CLI: killed after checkpoint 2, refused without --resume, resumed to
    step 4; then one GRPO step on top, and llm-grpo plays a small instance with the exported GGUF."""
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(TINY))
    out = tmp_path / "train"
    cmd = [*CLI, "train", "mec-queues", "--profile", "cpu-long", "--config", str(cfg), "--out", str(out), "--quiet"]
    log = (tmp_path / "train.log").open("w")  # a file, not a pipe: a full pipe would block the trainer
    proc = subprocess.Popen([*cmd, "--method", "sft"], env=PLUGIN_ENV, stdout=log, stderr=log)
    deadline = time.time() + 2400
    while not (out / "sft" / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file():
        assert proc.poll() is None and time.time() < deadline, (tmp_path / "train.log").read_text()[-2000:]
        time.sleep(1)
    time.sleep(1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    refused = subprocess.run([*cmd, "--method", "sft"], capture_output=True, text=True, env=PLUGIN_ENV)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    done = subprocess.run([*cmd, "--method", "grpo", "--resume"], capture_output=True, text=True, env=PLUGIN_ENV)
    assert done.returncode == 0, done.stderr
    sft_run = json.loads((out / "sft" / "run.json").read_text())
    assert sft_run["done"] and sft_run["segments"][-1]["from_step"] == 2 and sft_run["outputs"]["steps"] == 4
    summary = json.loads(done.stdout.strip().splitlines()[-1])  # TRL prints its log dicts on stdout too
    assert summary["method"] == "grpo" and summary["sft_steps"] == 4 and summary["steps"] == 1
    assert summary["trained_servers"] == 6 and summary["train_records"] == 4
    inst = PROBLEM.make_instance(1, "comllm", devices=2, servers=11, slots=4)
    _, _, res = solve(
        inst,
        "llm-grpo",
        0,
        None,
        model=str(out / "grpo" / "model.gguf"),
        open_loop=False,
        state="paper",
        answer="paper",
    )
    assert res.stats["trained_servers"] == 6 and res.stats["training_steps"] == "sft 4 + grpo 1"
    assert res.stats["llm_calls"] == res.stats["closed_tasks"] > 0


def test_one_answer_per_task():
    data = PROBLEM.make_instance(0, "comllm", devices=2, servers=6, slots=3)
    with pytest.raises(InputError, match="option samples: must be 1"):
        solve(data, "llm-zero-shot", 0, None, samples=2)
