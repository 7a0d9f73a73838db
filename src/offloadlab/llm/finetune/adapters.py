"""Finding a trained LoRA adapter and its training summary (the lookup every adapter-playing solver uses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError

ADAPTER_FILE = "adapter.gguf"  # what a training run writes in each stage's folder, beside summary.json
SUMMARY_FILE = "summary.json"
MANIFEST = "manifest.json"  # beside shipped adapters: their summaries by file name


def find_adapter(adapter: str | None, local: Path, shipped: Path, what: str, hint: str) -> tuple[Path, dict[str, Any]]:
    """``adapter``, else the training run's ``local`` file, else the ``shipped`` one, with its training summary
    (``summary.json`` beside a training run's adapter, else the folder's manifest). Missing, not GGUF, or
    without a summary: one InputError naming ``what`` and the ``hint``."""
    path = Path(adapter) if adapter else (local if local.is_file() else shipped)
    if not path.is_file():
        raise InputError("option adapter", f"no trained {what} adapter: '{path}' not found ({hint})")
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise InputError("option adapter", f"'{path}' is not a GGUF adapter ({hint})")
    summary, manifest = path.parent / SUMMARY_FILE, path.parent / MANIFEST
    if path.name == ADAPTER_FILE and summary.is_file():
        meta = json.loads(summary.read_text())
    elif manifest.is_file():
        meta = json.loads(manifest.read_text())["adapters"].get(path.name, {})
    else:
        meta = {}
    if not meta:
        raise InputError(
            "option adapter",
            f"'{path}' has no training summary beside it, so it is not a trained {what} policy ({hint})",
        )
    return path, meta
