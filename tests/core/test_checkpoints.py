"""Every solver that loads a checkpoint: a bad file (a directory, empty, random bytes, a truncated zip, another
solver's file) is one line with exit 2 that names the file and what it should hold."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from offloadlab.core.errors import InputError
from offloadlab.rl.common import load_checkpoint, read_json_checkpoint
from tests.test_cli import run_cli

DT_TINY = ["--episodes", 1, "--batch_size", 8, "--hidden", "[8]", "--progress", "false"]
# (scenario, instance overrides, solver, options, checkpoint file name); budgets are the smallest that run
SOLVERS = {
    "marl": ("dt-vehicular", ["--N", 2, "--K", 1, "--slots", 4], "marl", DT_TINY, "ckpt.pt"),
    "sarl": ("dt-vehicular", ["--N", 2, "--K", 1, "--slots", 4], "sarl", DT_TINY, "ckpt.pt"),
    "sarl-global": (
        "dt-vehicular",
        ["--N", 2, "--K", 1, "--slots", 4],
        "sarl-global",
        ["--progress", "false"],
        "c.zip",
    ),
    "llm-icl": (
        "dt-vehicular",
        ["--N", 2, "--K", 1, "--slots", 4],
        "llm-icl",
        [*DT_TINY, "--llm-backend", "random"],
        "ckpt.pt",
    ),
    "ddpg": ("satellite-mec", ["--M", 2, "--N", 3, "--I", 2], "ddpg", [], "c.zip"),
    "dqmsb": ("sagin-caching", ["--T", 4], "dqmsb", ["--progress", "false"], "c.zip"),
}


def _truncated_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data", json.dumps({"policy": list(range(2000))}))
    return buf.getvalue()[: len(buf.getvalue()) // 2]


def _foreign_torch() -> bytes:
    """A torch file written by another solver (a marl-like checkpoint of another method and size)."""
    import torch

    buf = io.BytesIO()
    torch.save({"meta": {"method": "other", "N": 99, "K": 9}, "actors": []}, buf)
    return buf.getvalue()


BAD = {
    "empty": lambda: b"",
    "random": lambda: bytes(range(256)) * 8,
    "truncated-zip": _truncated_zip,
    "other-solver": _foreign_torch,
}


def _assert_names_file(code, out, err, path):
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: checkpoint {path}"), err
    assert "expected" in lines[0]


@pytest.mark.parametrize("name", list(SOLVERS))
def test_bad_checkpoint_is_one_line(name, tmp_path, capsys, monkeypatch):
    scenario, overrides, solver, options, file_name = SOLVERS[name]
    inst = tmp_path / "inst.json"
    assert run_cli(["instance", scenario, *overrides, "-o", inst], capsys, monkeypatch)[0] == 0
    for kind, content in BAD.items():
        path = tmp_path / kind / file_name
        path.parent.mkdir()
        path.write_bytes(content())
        argv = ["solve", inst, "--solver", solver, "--budget", 4, *options, "--checkpoint", path]
        _assert_names_file(*run_cli(argv, capsys, monkeypatch), path)
    folder = tmp_path / "folder" / file_name
    folder.mkdir(parents=True)
    argv = ["solve", inst, "--solver", solver, "--budget", 4, *options, "--checkpoint", folder]
    _assert_names_file(*run_cli(argv, capsys, monkeypatch), folder)


def test_mec_queues_training_state(tmp_path, capsys, monkeypatch):
    """`train mec-queues`: a corrupt summary of an earlier stage is one line naming it, before any training."""
    pytest.importorskip("transformers")
    stage = tmp_path / "sft"
    stage.mkdir()
    (stage / "summary.json").write_bytes(b'{"done": tr')
    code, out, err = run_cli(
        ["train", "mec-queues", "--method", "comllm", "--out", tmp_path, "--quiet"], capsys, monkeypatch
    )
    _assert_names_file(code, out, err, stage / "summary.json")


def test_load_checkpoint_cases(tmp_path):
    missing = tmp_path / "none.pt"
    with pytest.raises(InputError, match=f"checkpoint {missing}: not found \\(expected a thing\\)"):
        load_checkpoint(missing, "a thing", lambda p: p.read_bytes())
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(InputError, match="expected a summary\\); ValueError: a JSON list, not an object"):
        read_json_checkpoint(listed, "a summary")
    good = tmp_path / "good.json"
    good.write_text('{"done": true}')
    assert read_json_checkpoint(good, "a summary") == {"done": True}
