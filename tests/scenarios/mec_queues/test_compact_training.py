"""The cpu profile end to end on tiny data (slow: loads SmolLM2 in torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import offloadlab.papers.mec_queues.plugin  # noqa: F401
from offloadlab.core.errors import InputError
from offloadlab.core.run import solve
from offloadlab.methods.mec_queues.compact_training import train_compact
from offloadlab.scenarios.mec_queues.problem import PROBLEM

TINY = {
    "threads": 1,
    "data": {
        "train_episodes": 1,
        "val_episodes": 1,
        "grpo_episodes": 1,
        "states_per_episode": 12,
        "devices": 6,
        "transfer_episodes": 1,
    },
    "sft": {"max_epochs": 2},
    "grpo": {"steps": 2, "prompts": 4, "group": 4, "save_every": 1},
}


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_two_step_training_reloads_its_adapter(tmp_path):
    out = tmp_path / "train"
    summary = train_compact("comllm", out, TINY)
    assert summary["method"] == "comllm" and summary["steps"] == 2 and summary["sft_steps"] > 0
    sft = json.loads((out / "sft" / "summary.json").read_text())
    assert sft["epochs"] == 2 and len(sft["curve"]) == 2 and 0 <= sft["val_accuracy"] <= 1
    assert sft["names"] == "letters" and 0 <= sft["transfer_accuracy"] <= 1 and sft["transfer_servers"] == 11
    # a finished run is reused, not retrained
    again = train_compact("comllm", out, TINY)
    assert again["wall_s"] == summary["wall_s"]
    # an interrupted stage (checkpoint, no summary) needs resume, and continues from its checkpoint
    (out / "comllm" / "summary.json").unlink()
    with pytest.raises(InputError, match="--resume"):
        train_compact("comllm", out, TINY, resume=False)
    resumed = train_compact("comllm", out, TINY, resume=True)
    curve = json.loads((out / "comllm" / "summary.json").read_text())["curve"]
    assert resumed["steps"] == 2 and [p["step"] for p in curve] == [1, 2]
    # the exported adapter plays: valid actions at the trained size and zero-shot at 11 servers
    for servers in (6, 11):
        inst = PROBLEM.make_instance(5, "comllm", devices=3, servers=servers, slots=4)
        _, _, res = solve(inst, "comllm", 0, None, adapter=str(out / "comllm" / "adapter.gguf"), open_loop=False)
        acts = np.asarray(res.decision["actions"])
        assert acts.min() >= 0 and acts.max() <= servers
        assert res.stats["closed_unusable"] == 0 and res.stats["trained_servers"] == 6
