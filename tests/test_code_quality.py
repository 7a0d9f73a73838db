"""Lint, format, type and import-layer checks, run by the README's test command like any other test:
an import that runs outward (e.g. a model floor importing offloadlab.experiments) fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / cmd[0]), *cmd[1:]], cwd=ROOT, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize(
    "cmd",
    [
        ("ruff", "check", "src", "tests", "benchmarks", "docs/gen"),
        ("ruff", "format", "--check", "src", "tests", "benchmarks", "docs/gen"),
        ("lint-imports",),
        ("mypy",),
    ],
    ids=lambda c: " ".join(c),
)
def test_tool_is_clean(cmd):
    out = run(*cmd)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
