"""What a spec file may name: specs are shared between researchers, so a spec is untrusted input.

* Secrets and endpoints are not a spec's to choose: ``llm_api_key_env`` and ``llm_base_url`` come from the
  command line or the environment only (``OPENAI_BASE_URL``), so a shared spec can neither send a request
  with the key to a server of its choice nor pick which environment variable is read as the key.
* Every path an option names (``PATH_OPTIONS``: checkpoints, LLM recordings and replays, model files) lies
  inside the run's results folder (``--out``) or inside the data folder (``$OFFLOADLAB_DATA_DIR``, else the
  training folder ``$OFFLOADLAB_TRAIN_DIR`` or ``./train``, where ``offloadlab train`` writes its models).
  A relative path is taken inside ``--out``; an absolute one, or one that leaves both folders (``..``, a
  symbolic link), is refused in one line before any run starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError, excerpt

SECRET_OPTIONS = ("llm_api_key_env", "llm_base_url")
# Options that always name a file, and options that name a file when the value looks like a path
# (otherwise they are a model's name, e.g. ``llm_model: smollm2``).
PATH_OPTIONS = ("checkpoint", "llm_record", "llm_replay")
MAYBE_PATH_OPTIONS = ("model", "llm_model")
DATA_ENV = "OFFLOADLAB_DATA_DIR"
TRAIN_ENV = "OFFLOADLAB_TRAIN_DIR"
MAX_PATH = 1024  # characters; file systems refuse longer paths (PATH_MAX 4096, a name 255)


def refuse_secret_options(options: Mapping[str, Any], where: str) -> None:
    """InputError when a spec's solver options name an API-key variable or an endpoint."""
    for name in SECRET_OPTIONS:
        if name in options:
            flag = "--" + name.replace("_", "-")
            raise InputError(
                f"{where}.{name}",
                f"not allowed in a spec (a shared spec must not choose the endpoint or the key): give {flag} "
                "on the command line or set it in the environment",
            )


def data_dir() -> Path:
    """The data folder a spec may name besides ``--out``."""
    return Path(os.environ.get(DATA_ENV) or os.environ.get(TRAIN_ENV) or "train")


def is_path_value(name: str, value: Any) -> bool:
    """Whether option ``name`` with ``value`` names a file."""
    if not isinstance(value, str) or not value:
        return False
    if name in PATH_OPTIONS:
        return True
    return name in MAYBE_PATH_OPTIONS and (os.sep in value or "/" in value or value.endswith(".gguf"))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confined_path(value: str, out: Path, where: str) -> Path:
    """``value`` resolved inside ``out`` (relative) or checked to lie in ``out`` or the data folder."""
    if len(value) > MAX_PATH or "\0" in value:
        raise InputError(where, f"not a usable path ({excerpt(value)})")
    roots = [out.resolve(), data_dir().resolve()]
    raw = Path(value)
    path = (raw if raw.is_absolute() else out / raw).resolve()
    if not any(_inside(path, root) for root in roots):
        raise InputError(
            where,
            f"path {excerpt(value)} leaves the results folder: a spec may name files inside --out ({out}; "
            f"relative paths are taken there) or the data folder ({data_dir()}, ${DATA_ENV})",
        )
    return path


def confine_options(options: Mapping[str, Any], out: Path, where: str) -> dict[str, Any]:
    """The options with every path made absolute inside ``out`` or the data folder (InputError otherwise)."""
    refuse_secret_options(options, where)
    return {
        name: str(confined_path(value, out, f"{where}.{name}")) if is_path_value(name, value) else value
        for name, value in options.items()
    }
