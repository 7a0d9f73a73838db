"""mec-queues fine-tuning on a CPU: the long-format TRL path against the compact cached-trunk path, side by side.

Run from the repository root: .venv/bin/python benchmarks/bench_finetune.py [--threads 1] [--old-steps 2] [--write]
Each path runs in its own subprocess (so its peak memory is its own) on the same machine, one after the other:

- old: ``offloadlab train mec-queues --method sft --profile cpu-long`` (the authors' long state text and
  answer, TRL SFT with LoRA r 8 on all 30 layers, logits over every position), ``--old-steps`` optimiser steps
  of 2 records;
- new: the ``cpu`` profile (compact state, one-token id, the frozen trunk computed once, LoRA on the top
  layers, loss at the answer position only), SFT for ``--new-epochs`` epochs on a small data set.

Printed per path: prompt tokens per record, tokens/s of the forward pass that dominates it (new: the trunk),
seconds per optimiser step (records per step alongside), model-load seconds and peak resident memory (GB).
Timings depend on what else runs on the machine: compare the two rows of one run, not runs across machines.
``--write`` stores the rows, with the machine's cores, the torch threads and the load average, in
``src/offloadlab/methods/mec_queues/training_measured.json``: ``offloadlab train mec-queues --help`` shows them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def old_path(out: Path, steps: int, threads: int) -> dict[str, Any]:
    """Long-format TRL SFT for ``steps`` steps; its run.json gives the time of the training loop."""
    from offloadlab.methods.mec_queues.training import train

    cfg = {"data": {"records": 2 * steps}, "finetune": {"threads": threads, "export": "none",
           "sft": {"max_steps": steps, "save_steps": steps}}}  # fmt: skip
    t0 = time.perf_counter()
    train("sft", out, "cpu-long", cfg, progress=False)
    run = json.loads((out / "sft" / "run.json").read_text())
    train_s = float(run["outputs"]["train_runtime_s"])
    prompt_tokens = _long_prompt_tokens()
    return {"path": "old (long text, TRL, all positions)", "records_per_step": 2, "steps": steps,
            "s_per_step": train_s / steps, "prompt_tokens_per_record": prompt_tokens,
            "tokens_per_s": 2 * steps * prompt_tokens / train_s, "wall_s": time.perf_counter() - t0}  # fmt: skip


def _long_prompt_tokens() -> int:
    """Tokens of one long-format prompt at 6 servers (the shipped tokenizer)."""
    import llama_cpp

    from offloadlab.llm.embedded import resolve_model
    from offloadlab.scenarios.mec_queues.dataset import chat_messages
    from offloadlab.scenarios.mec_queues.params import make_params
    from offloadlab.scenarios.mec_queues.text import state_from_params

    vocab = llama_cpp.Llama(model_path=str(resolve_model("smollm2")[0]), vocab_only=True, verbose=False)
    state = state_from_params(make_params("comllm", servers=6), 3.0, 2.0, 1.0, [1] * 6, [2.0] * 6)
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in chat_messages(state))
    return len(vocab.tokenize(text.encode(), add_bos=False, special=True))


def new_path(out: Path, epochs: int, threads: int) -> dict[str, Any]:
    """The compact pipeline's SFT on 2 training episodes; its summary gives the times."""
    from offloadlab.methods.mec_queues.compact_training import train_compact

    cfg = {"threads": threads, "data": {"train_episodes": 2, "val_episodes": 1, "grpo_episodes": 1},
           "sft": {"max_epochs": epochs}}  # fmt: skip
    t0 = time.perf_counter()
    s = train_compact("sft", out, cfg)
    records = s["records"]["train"] + s["records"]["val"] + s["records"]["grpo"]
    tokens = sum(s["prompt_tokens"].values())
    return {"path": "new (compact, one token, cached trunk)", "records_per_step": 32, "steps": s["steps"],
            "s_per_step": s["wall_s"] / s["steps"], "prompt_tokens_per_record": tokens / records,
            "tokens_per_s": tokens / s["trunk_s"], "model_load_s": s["model_load_s"],
            "wall_s": time.perf_counter() - t0}  # fmt: skip


def child(which: str, arg: int, threads: int) -> None:
    """Run one path in this process and print its row with the peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        row = old_path(Path(tmp), arg, threads) if which == "old" else new_path(Path(tmp), arg, threads)
    row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(row))


def main() -> None:
    """Both paths, each in a subprocess, then the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--old-steps", type=int, default=2)
    ap.add_argument("--new-epochs", type=int, default=2)
    ap.add_argument("--child", choices=["old", "new"])
    ap.add_argument("--arg", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="store the rows for `offloadlab train --help`")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.arg, a.threads)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    load = os.getloadavg()[0]
    rows = []
    for which, arg in (("new", a.new_epochs), ("old", a.old_steps)):
        cmd = [sys.executable, __file__, "--child", which, "--arg", str(arg), "--threads", str(a.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    keys = ("prompt_tokens_per_record", "records_per_step", "s_per_step", "tokens_per_s", "peak_rss_gb")
    print(f"{'path':42s} " + " ".join(f"{k:>24s}" for k in keys))
    for r in rows:
        print(f"{r['path']:42s} " + " ".join(f"{r[k]:24.2f}" for k in keys))
    new, old = rows
    print(f"per record: old {old['s_per_step'] / 2:.1f} s, new {new['s_per_step'] / 32:.3f} s "
          f"({old['s_per_step'] / 2 / (new['s_per_step'] / 32):.0f}x); peak memory "
          f"{old['peak_rss_gb'] / new['peak_rss_gb']:.1f}x lower")  # fmt: skip
    print(json.dumps(rows))
    if a.write:
        write_measured(rows, a, (load + os.getloadavg()[0]) / 2)


def write_measured(rows: list[dict[str, Any]], a: argparse.Namespace, load: float) -> None:
    """Store the rows by profile (new = cpu, old = cpu-long) with the machine they ran on."""
    out = ROOT / "src" / "offloadlab" / "methods" / "mec_queues" / "training_measured.json"
    measured = {
        "benchmark": f"benchmarks/bench_finetune.py --threads {a.threads} --old-steps {a.old_steps} "
        f"--new-epochs {a.new_epochs}",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "threads": a.threads, "load_average": round(load, 2)},
        "profiles": {"cpu": rows[0], "cpu-long": rows[1]},
    }
    out.write_text(json.dumps(measured, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
