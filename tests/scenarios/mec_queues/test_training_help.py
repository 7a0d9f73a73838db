"""``offloadlab train --help`` (methods, profiles with their measured time and memory, config keys), the
summary alone on stdout, where the solvers find a trained adapter, and the training-curves figure."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401  (registers the scenario, solvers and trainers)
from offloadlab.cli import progress_to_stderr
from offloadlab.core import trainers
from offloadlab.methods.mec_queues import train_profiles
from offloadlab.methods.mec_queues.compact_training import CompactConfig
from offloadlab.methods.mec_queues.llm_policies import SHIPPED_ADAPTERS
from offloadlab.methods.mec_queues.training import MecTrainConfig, where_solvers_find
from offloadlab.options_listing import model_rows
from offloadlab.papers.mec_queues import training_curves
from tests.test_cli import run_cli

BENCH = {
    "benchmark": "benchmarks/bench_finetune.py --threads 1",
    "date": "2026-01-02",
    "machine": {"cpus": 2, "threads": 1, "load_average": 3.25},
    "profiles": {
        "cpu": {"s_per_step": 1.234, "records_per_step": 32, "prompt_tokens_per_record": 38.6,
                "tokens_per_s": 564.0, "peak_rss_gb": 2.051, "model_load_s": 21.0},
        "cpu-long": {"s_per_step": 29.51, "records_per_step": 2, "prompt_tokens_per_record": 1134.0,
                     "tokens_per_s": 77.0, "peak_rss_gb": 11.2},
    },
}  # fmt: skip


@pytest.mark.parametrize("argv", [["train", "--help"], ["train", "mec-queues", "--help"]])
def test_train_help_lists_methods_profiles_and_every_config_key(argv, capsys, monkeypatch):
    code, out, err = run_cli(argv, capsys, monkeypatch)
    assert code == 0, err
    for method in ("sft", "grpo", "comllm"):
        assert f"\n  {method} " in out
    for profile in ("cpu", "cpu-long", "paper"):
        assert f"\n  {profile}: " in out
    assert out.count("    measured: ") == 3
    keys = {line.split()[0] for line in out.splitlines() if line.startswith("  ") and not line.startswith("   ")}
    for model in (CompactConfig, MecTrainConfig):
        assert {r.flag for r in model_rows(model)} <= keys
    assert "data.train_episodes" in keys and "sft.learning_rate" in keys and "finetune" in keys


def test_measured_lines_are_read_from_the_benchmark_and_the_manifest(tmp_path, monkeypatch):
    monkeypatch.setattr(train_profiles, "MEASURED_FILE", tmp_path / "none.json")
    assert "no benchmark row" in train_profiles.measured_cpu_long()
    assert train_profiles.measured_paper().startswith("not measured")
    bench = tmp_path / "measured.json"
    bench.write_text(json.dumps(BENCH))
    monkeypatch.setattr(train_profiles, "MEASURED_FILE", bench)
    long = train_profiles.measured_cpu_long()
    assert "29.51 s per optimiser step of 2 records" in long and "peak 11.20 GB" in long
    assert "2 cores, 1 torch thread(s), load average 3.2" in long and "2026-01-02" in long
    cpu = train_profiles.measured_cpu()
    assert "1.23 s per optimiser step of 32 records" in cpu and "model load 21 s" in cpu
    stages = json.loads((SHIPPED_ADAPTERS / "manifest.json").read_text())["adapters"]
    for s in stages.values():  # the shipped run's stage times, as its manifest records them
        assert f"{s['method']} {s['wall_s']:.0f} s" in cpu
    assert f"peak {max(s['peak_rss_gb'] for s in stages.values()):.2f} GB" in cpu


def test_progress_goes_to_stderr_at_both_levels(capfd):
    with progress_to_stderr():
        print("from python")
        os.write(1, b"from C\n")
    print("after")
    out, err = capfd.readouterr()
    assert out == "after\n"
    assert "from python" in err and "from C" in err


def test_train_prints_only_the_summary_on_stdout(tmp_path, capsys, monkeypatch):
    def noisy(out, profile, config, resume, progress):
        print("epoch 1: loss 0.5")
        sys.stdout.write("step 2\n")
        return {"method": "noisy", "out": str(out)}

    spec = trainers.TrainerSpec("mec-queues", "noisy", noisy, "prints progress on stdout")
    monkeypatch.setitem(trainers._TRAINERS, ("mec-queues", "noisy"), spec)
    code, out, err = run_cli(["train", "mec-queues", "--method", "noisy", "--out", tmp_path / "o"], capsys, monkeypatch)
    assert code == 0, err
    assert json.loads(out) == {"method": "noisy", "out": str(tmp_path / "o")}
    assert "epoch 1: loss 0.5" in err and "step 2" in err


def test_the_summary_says_whether_the_solvers_find_the_adapter(tmp_path, monkeypatch):
    monkeypatch.setenv(trainers.TRAIN_DIR_ENV, str(tmp_path / "train"))
    default = trainers.default_train_dir("mec-queues") / "comllm" / "adapter.gguf"
    assert where_solvers_find(default) == {"adapter_file": str(default), "solver_option": ""}
    other = tmp_path / "elsewhere" / "comllm" / "adapter.gguf"
    assert where_solvers_find(other)["solver_option"] == f"--adapter {other}"


def test_training_figure_draws_the_shipped_curves():
    curves = {s: training_curves.adapter_curve(SHIPPED_ADAPTERS / f"{s}.gguf") for s in training_curves.STAGES}
    assert all(curves.values())
    fig = training_curves.draw_curves(curves, "shipped")
    left, right = fig.axes[0], fig.axes[1]
    accuracy = left.lines[0].get_ydata()
    assert np.allclose(accuracy, [100 * p["val_accuracy"] for p in curves["sft"]])
    rewards = [line.get_ydata() for line in right.lines[::2]]  # raw curve of each stage, then its average
    assert np.allclose(rewards[0], [p["reward"] for p in curves["grpo"]])
    assert np.allclose(rewards[1], [p["reward"] for p in curves["comllm"]])


def test_training_figure_from_a_training_folder_and_from_an_experiment(tmp_path):
    sft = [{"epoch": e, "val_accuracy": a, "train_loss": 1 / e} for e, a in ((1, 0.5), (2, 0.8))]
    grpo = [{"step": k, "reward": -3.0 + 0.1 * k} for k in range(1, 6)]
    for stage, curve in (("sft", sft), ("comllm", grpo)):
        (tmp_path / stage).mkdir()
        (tmp_path / stage / "summary.json").write_text(json.dumps({"method": stage, "curve": curve}))
    assert training_curves.folder_curves(tmp_path) == {"sft": sft, "comllm": grpo}

    class Rec:
        def __init__(self, solver, adapter):
            self.solver, self.ok = solver, True
            self.data = {"stats_json": json.dumps({"adapter": str(adapter)})}

    class Exp:
        title = "runs"
        records = [Rec("llm-sft", tmp_path / "sft" / "adapter.gguf"), Rec("random", "x"),
                   Rec("comllm", tmp_path / "comllm" / "adapter.gguf")]  # fmt: skip

    found = training_curves.experiment_curves(Exp())  # type: ignore[arg-type]
    assert {s: c for s, (c, _) in found.items()} == {"sft": sft, "comllm": grpo}
    fig = training_curves.draw_training(Exp())  # type: ignore[arg-type]
    assert fig is not None and str(tmp_path) in fig._suptitle.get_text()
    assert training_curves.draw_curves({}, "nothing") is None
