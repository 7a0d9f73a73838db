"""What ``offloadlab train mec-queues --help`` says of each profile's time and memory, read from measurements.

Two sources, neither typed by hand: ``training_measured.json`` beside this module, written by
``benchmarks/bench_finetune.py --write`` (seconds per optimiser step, tokens/s and peak memory of the ``cpu``
and ``cpu-long`` paths, run side by side on one machine), and the shipped adapters' manifest (the wall time
and peak memory of the run that trained them). A profile nothing measured says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MEASURED_FILE = Path(__file__).parent / "training_measured.json"
MANIFEST_FILE = Path(__file__).parent / "adapters" / "manifest.json"


def _read(path: Path) -> dict[str, Any]:
    """A JSON file's object ({} when missing: the listing then says nothing was measured)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def _bench_line(profile: str) -> str:
    """The benchmark's row of one profile as text, with the machine it ran on."""
    bench = _read(MEASURED_FILE)
    row = bench.get("profiles", {}).get(profile)
    if not row:
        return "no benchmark row (run benchmarks/bench_finetune.py --write)"
    m = bench["machine"]
    return (
        f"{row['s_per_step']:.2f} s per optimiser step of {row['records_per_step']} records "
        f"({row['prompt_tokens_per_record']:.0f} prompt tokens each, {row['tokens_per_s']:.0f} tokens/s), "
        f"peak {row['peak_rss_gb']:.2f} GB"
        + (f", model load {row['model_load_s']:.0f} s" if "model_load_s" in row else "")
        + f" [bench_finetune.py, {m['cpus']} cores, {m['threads']} torch thread(s), load average "
        f"{m['load_average']:.1f}, {bench['date']}]"
    )


def measured_cpu() -> str:
    """The cpu profile: the benchmark's per-step figures and the shipped run's stage times and peak memory."""
    stages = _read(MANIFEST_FILE).get("adapters", {})
    if not stages:
        return _bench_line("cpu")
    walls = " + ".join(f"{s['method']} {s['wall_s']:.0f} s" for s in stages.values())
    peak = max(s["peak_rss_gb"] for s in stages.values())
    threads = {s["threads"] for s in stages.values()}
    return (
        f"{_bench_line('cpu')}; the shipped adapters' run: {walls} of training (plus the trunk pass and a "
        f"model load of about {max(s['model_load_s'] for s in stages.values()):.0f} s per process), peak "
        f"{peak:.2f} GB, {'/'.join(map(str, sorted(threads)))} torch thread(s) [adapters/manifest.json]"
    )


def measured_cpu_long() -> str:
    """The cpu-long profile: the benchmark's row of the long-format TRL path."""
    return _bench_line("cpu-long")


def measured_paper() -> str:
    """The paper profile: written for a GPU, which no benchmark here has run."""
    return _bench_line("paper").replace(
        "no benchmark row (run benchmarks/bench_finetune.py --write)",
        "not measured (meant for a GPU; none was available where the benchmark ran)",
    )
