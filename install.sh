#!/usr/bin/env bash
# Create .venv and install offloadlab into it (optionally with extras, e.g. `./install.sh test`).
# llama-cpp-python is served as source: these flags make its build portable and use both cores.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF}"
export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
EXTRAS="${1:-}"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --progress-bar off -e ".${EXTRAS:+[$EXTRAS]}"
