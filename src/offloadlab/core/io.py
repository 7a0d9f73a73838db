"""Reading and writing files with errors that name the file and the defect."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError, cut

MAX_DEPTH = 32  # input files nest a few levels; deeper is a mistake (and deep recursion crashes parsers)
MAX_INPUT_BYTES = 64 * 2**20
PATH_MAX, NAME_MAX = 4096, 255  # Linux's limits (bytes); longer paths fail in the OS with ENAMETOOLONG
SHOWN_PATH = 160  # characters of a path in an error line


def usable_path(path: str | Path, what: str) -> Path:
    """``path`` as a Path; InputError (path cut short) when no file system can hold it: longer than
    PATH_MAX, a name longer than NAME_MAX, or a NUL byte."""
    text = str(path)
    name_max = max((len(part.encode()) for part in Path(text).parts), default=0)
    if "\0" in text or len(text.encode()) > PATH_MAX or name_max > NAME_MAX:
        raise InputError(
            what,
            f"'{shown(text)}' is not a usable path (at most {PATH_MAX} bytes, {NAME_MAX} a name, no NUL)",
        )
    return Path(text)


def shown(path: str | Path) -> str:
    """A path as an error message shows it: cut to SHOWN_PATH characters."""
    text = str(path)
    return text if len(text) <= SHOWN_PATH else f"{text[: SHOWN_PATH // 2]}...{text[-SHOWN_PATH // 2 :]}"


def read_text(path: str | Path, what: str, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of an input file; InputError when it is missing, a folder, too large or not text."""
    p = usable_path(path, what)
    if p.is_dir():
        raise InputError(what, f"'{p}' is a folder, not a file")
    if not p.is_file():
        raise InputError(what, f"file '{p}' not found")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise InputError(what, f"'{p}' has {size} bytes, more than the {max_bytes} allowed")
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(what, f"cannot read '{p}': {exc.strerror}") from None
    if b"\0" in raw:
        raise InputError(what, f"'{p}' is not a text file (it holds NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(what, f"'{p}' is not UTF-8 text (byte {exc.start})") from None


def check_depth(obj: Any, what: str, limit: int = MAX_DEPTH) -> Any:
    """Return ``obj`` unchanged; InputError when its lists/objects nest deeper than ``limit`` levels."""
    level = [obj]
    for _ in range(limit + 1):
        level = [v for x in level if isinstance(x, (list, dict)) for v in (x.values() if isinstance(x, dict) else x)]
        if not level:
            return obj
    raise InputError(what, f"nested deeper than {limit} levels")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise OverflowError(token)
    return value


def loads(text: str, what: str, where: str = "") -> Any:
    """Parse JSON text strictly: no NaN/Infinity literals, no number overflowing to infinity, bounded depth,
    no key twice in one object (JSON parsers disagree on which value wins: the file is ambiguous)."""
    src = f"'{where}' " if where else ""

    def no_constants(token: str) -> float:
        raise InputError(what, f"{src}contains {token}, which is not a number (allowed: finite numbers)")

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise InputError(f"{what}.{cut(key, 80)}", f"{src}key appears twice in one object (give it once)")
                seen.add(key)
        return obj

    try:
        data = json.loads(text, parse_constant=no_constants, parse_float=_finite_float, object_pairs_hook=unique)
    except InputError:  # a key given twice
        raise
    except json.JSONDecodeError as exc:
        raise InputError(what, f"{src}is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except OverflowError as exc:
        raise InputError(
            what, f"{src}contains {str(exc)[:40]}, which overflows a float (allowed: finite numbers)"
        ) from None
    except RecursionError:
        raise InputError(what, f"{src}is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(what, f"{src}holds a value that cannot be read ({str(exc)[:80]})") from None
    return check_depth(data, what)


def read_json(path: str | Path, what: str) -> Any:
    """Parse a JSON file; InputError on a missing file, a folder, non-text or invalid JSON (NaN, Infinity and
    numbers beyond the float range are rejected, and so is nesting deeper than MAX_DEPTH)."""
    return loads(read_text(path, what), what, str(path))


def read_data(path: str | Path, what: str) -> Any:
    """A JSON file, or for a ``.npz`` name an archive of the same fields: arrays stay arrays, and a
    0-d text entry holds the JSON of a field that is not an array (text, numbers, objects)."""
    p = usable_path(path, what)
    if p.suffix.lower() != ".npz":
        return read_json(p, what)
    if not p.is_file():
        raise InputError(
            what, f"'{shown(p)}' is a folder, not a file" if p.is_dir() else f"file '{shown(p)}' not found"
        )
    try:
        with np.load(p, allow_pickle=False) as archive:
            fields = {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(what, f"'{shown(p)}' is not a readable .npz archive ({str(exc)[:80]})") from None
    return {k: loads(str(v), what, f"{p}:{k}") if v.ndim == 0 and v.dtype.kind == "U" else v for k, v in fields.items()}


def write_data(path: str | Path, obj: Mapping[str, Any], what: str = "output") -> None:
    """Write named fields as JSON, or as a ``.npz`` archive when the name ends so (see ``read_data``)."""
    p = output_file(path, what)
    if p.suffix.lower() != ".npz":
        write_json(p, obj, what)
        return
    fields = {k: v if isinstance(v, np.ndarray) else np.array(dumps(v)) for k, v in obj.items()}
    try:
        with p.open("wb") as fh:
            np.savez(fh, **fields)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    except OSError as exc:
        raise InputError(what, f"cannot write '{p}': {exc.strerror}") from None


def dumps(obj: Any, indent: int | None = None) -> str:
    """JSON text with non-finite floats written as null."""
    from offloadlab.core.result import jsonable

    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


def output_file(path: str | Path, what: str) -> Path:
    """A path a command may write a file to: not a folder; its missing parent folders are created."""
    p = usable_path(path, what)
    if p.is_dir():
        raise InputError(what, f"'{p}' is a folder (give a file name)")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(what, f"cannot create the folder of '{p}': a part of it is a file") from None
    except OSError as exc:
        raise InputError(what, f"cannot create the folder of '{p}': {exc.strerror}") from None
    return p


def output_dir(path: str | Path, what: str) -> Path:
    """A folder a command may write files into, created when missing; InputError when it is a file."""
    p = usable_path(path, what)
    if p.exists() and not p.is_dir():
        raise InputError(what, f"'{p}' is a file (give a folder)")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(what, f"cannot create the folder '{p}': a part of it is a file") from None
    except OSError as exc:
        raise InputError(what, f"cannot create the folder '{p}': {exc.strerror}") from None
    return p


def write_text(path: str | Path, text: str, what: str = "output") -> Path:
    """Write a text file (creating parent folders); InputError naming the file when it cannot be written."""
    p = output_file(path, what)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(what, f"cannot write '{p}': {exc.strerror}") from None
    return p


def write_json(path: str | Path, obj: Any, what: str = "output") -> None:
    """Write JSON (non-finite floats as null), creating parent folders."""
    write_text(path, dumps(obj, indent=None) + "\n", what)


def is_finite_number(x: Any) -> bool:
    """True for a finite int/float that is not a bool."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@contextlib.contextmanager
def scratch_logdir() -> Iterator[None]:
    """Give a solver run a temporary log folder, removed afterwards: Stable-Baselines3 otherwise leaves an
    empty ``SB3-<time>`` folder in the system temp directory for every model it builds ($SB3_LOGDIR)."""
    if "SB3_LOGDIR" in os.environ:  # the user chose where SB3 logs go
        yield
        return
    with tempfile.TemporaryDirectory(prefix="offloadlab-run-") as folder:
        os.environ["SB3_LOGDIR"] = folder
        try:
            yield
        finally:
            os.environ.pop("SB3_LOGDIR", None)
