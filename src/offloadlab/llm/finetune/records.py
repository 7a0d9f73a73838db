"""Training records in the COMLLM authors' format and their chat rendering.

A record is ``{"instruction": str, "input": dict | str, "output": str | {"action_name": str}}``: the
instruction, the state (a mapping is written one ``key: value`` line per entry, lists and mappings as
JSON, as the authors' ``format_mec_input`` does) and the oracle answer. The chat is
``system`` (config) / ``user`` (instruction, blank line, input heading, input lines) / ``assistant``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError

Record = Mapping[str, Any]


def check_records(records: Sequence[Record], need_output: bool = True) -> list[Record]:
    """The records as a list, or InputError naming the first malformed one."""
    if isinstance(records, (str, bytes)) or not isinstance(records, Sequence) or not records:
        raise InputError("records", "expected a non-empty list of {instruction, input, output} objects")
    for i, rec in enumerate(records):
        where = f"records[{i}]"
        if not isinstance(rec, Mapping):
            raise InputError(where, "expected an object")
        if not isinstance(rec.get("instruction"), str) or not rec["instruction"].strip():
            raise InputError(f"{where}.instruction", "expected a non-empty string")
        if not isinstance(rec.get("input"), (str, Mapping)):
            raise InputError(f"{where}.input", "expected a string or an object")
        if need_output:
            answer_text(rec, where)
    return list(records)


def answer_text(record: Record, where: str = "record") -> str:
    """The oracle answer of a record: ``output`` itself or ``output.action_name``."""
    out = record.get("output")
    if isinstance(out, Mapping):
        out = out.get("action_name")
    if not isinstance(out, str) or not out.strip():
        raise InputError(f"{where}.output", 'expected a non-empty string or {"action_name": string}')
    return out


def input_text(value: str | Mapping[str, Any]) -> str:
    """The state as prompt lines: ``key: value``, lists and objects as JSON."""
    if isinstance(value, str):
        return value
    return "\n".join(
        f"{k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v}" for k, v in value.items()
    )


def prompt_messages(record: Record, system_prompt: str, input_heading: str) -> list[dict[str, str]]:
    """System and user messages of a record (the prompt the model answers)."""
    user = f"{record['instruction']}\n\n{input_heading}\n{input_text(record['input'])}"
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user}]


def load_records(path: str | Path) -> list[Record]:
    """Records from a JSON list or a JSONL file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line.strip()]
        )
    except (OSError, ValueError) as exc:
        raise InputError("records", f"cannot read '{path}': {exc}") from None
    return check_records(data)


def fingerprint(records: Sequence[Record]) -> str:
    """A short hash of the records: a resumed run must train on the same data."""
    blob = json.dumps(list(records), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
