"""The results store: a Parquet dataset with one file per run, written atomically, queried with DuckDB.

Layout of a store directory::

    runs/<key>.parquet          one row per run (see SCHEMA), replaced atomically (write temp, fsync, rename)
    runs/quarantine/            run files that could not be read, moved aside (their runs are redone)
    experiments/<name>.json     each experiment's spec and its planned runs (key, label, grid point, seed)
    claims/<key>.lock           a run being executed: its runner holds an flock on the file

Why a Parquet dataset rather than one DuckDB file: a file per run is written by a rename, which is
atomic, so a ``kill -9`` at any moment leaves either the whole run or nothing, and the file name (the
run key) makes duplicates impossible; readers take no lock, so figures and reports can be drawn from
a store while a sweep is still writing to it, and a store merges with another by copying files.
DuckDB reads the whole dataset with one glob when a query is needed.

Why flock'ed claim files: two runners on one store must not execute the same run. A runner claims a run
by taking an exclusive, non-blocking ``flock`` on its claim file and keeps it until the run is stored; the
kernel drops the lock when the process dies (even by ``kill -9``), so a claim can never go stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from offloadlab.core.errors import InputError
from offloadlab.core.io import shown, usable_path

HISTORY = pa.struct(
    [
        ("evaluations", pa.int64()),
        ("seconds", pa.float64()),
        ("best_objective", pa.float64()),
        ("llm_calls", pa.int64()),
        ("llm_tokens", pa.int64()),
    ]
)
SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("experiment", pa.string()),
        ("label", pa.string()),
        ("scenario", pa.string()),
        ("preset", pa.string()),
        ("params_json", pa.string()),
        ("instance_params_json", pa.string()),
        ("instance_seed", pa.int64()),
        ("solver", pa.string()),
        ("options_json", pa.string()),
        ("budget", pa.int64()),
        ("repetition", pa.int64()),
        ("solver_seed", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("objective", pa.float64()),
        ("feasible", pa.bool_()),
        ("evaluations", pa.int64()),
        ("wall_s", pa.float64()),
        ("llm_calls", pa.int64()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("invalid_outputs", pa.int64()),
        ("stats_json", pa.string()),
        ("details_json", pa.string()),
        ("decision_json", pa.string()),
        ("history", pa.list_(HISTORY)),
        ("version", pa.string()),
        ("host", pa.string()),
        ("pid", pa.int64()),
        ("started_at", pa.string()),
        ("finished_at", pa.string()),
    ]
)
TMP_SUFFIX = ".tmp"
# A manifest temp file is written and renamed within milliseconds; one this old was left by a killed writer.
STALE_TMP_S = 600.0


def notice_stderr(text: str) -> None:
    """Default sink of the store's notices (files moved to quarantine)."""
    print(f"notice: {text}", file=sys.stderr, flush=True)


class Claim:
    """An exclusive hold on one run key (an flock on ``claims/<key>.lock``), released by ``release``."""

    def __init__(self, path: Path, fd: int):
        self.path, self.fd = path, fd

    def release(self) -> None:
        """Remove the claim file and drop the lock (unlink first, so no one locks a file about to vanish)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)


class ResultsStore:
    """A results directory: atomic per-run Parquet files, experiment manifests and run claims."""

    def __init__(self, root: str | Path, notice: Callable[[str], None] = notice_stderr):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.exp_dir = self.root / "experiments"
        self.claims_dir = self.root / "claims"
        self.quarantine_dir = self.runs_dir / "quarantine"
        self.notice = notice
        self.quarantined: list[Path] = []  # files this object moved to quarantine

    def create(self) -> ResultsStore:
        """Make the folders and drop temp files whose writer is gone (never a live writer's)."""
        usable_path(self.root, "out")
        for d in (self.root, self.runs_dir, self.exp_dir, self.claims_dir):
            if d.exists() and not d.is_dir():
                raise InputError("out", f"'{shown(d)}' is a file, not a results store directory")
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError("out", f"cannot create the results store '{shown(d)}': {exc.strerror}") from None
        for tmp in self.runs_dir.glob(f"*{TMP_SUFFIX}"):
            claim = self.try_claim(tmp.name.split(".", 1)[0])  # the writer of runs/<key>... holds <key>'s claim
            if claim is not None:
                tmp.unlink(missing_ok=True)
                claim.release()
        for tmp in self.exp_dir.glob(f"*{TMP_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - tmp.stat().st_mtime > STALE_TMP_S:
                    tmp.unlink()
        return self

    def exists(self) -> bool:
        """Whether this directory holds a store."""
        return self.runs_dir.is_dir() and self.exp_dir.is_dir()

    def run_path(self, key: str) -> Path:
        """Where the run ``key`` is stored."""
        return self.runs_dir / f"{key}.parquet"

    def write_run(self, row: dict[str, Any]) -> Path:
        """Store one run's row under its key, atomically replacing an earlier (failed) attempt."""
        path = self.run_path(row["key"])
        tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
        table = pa.Table.from_pylist([{name: row.get(name) for name in SCHEMA.names}], schema=SCHEMA)
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    def try_claim(self, key: str) -> Claim | None:
        """Claim the run ``key`` for this process, or None when another live process holds it."""
        path = self.claims_dir / f"{key}.lock"
        while True:
            fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # else the holder released (unlinked) it between our open and lock: open afresh
                os.ftruncate(fd, 0)
                os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
                return Claim(path, fd)
            os.close(fd)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """The store-wide lock (held for milliseconds: manifest checks and writes)."""
        fd = os.open(self.root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def write_experiment(self, name: str, manifest: dict[str, Any]) -> None:
        """Store an experiment's manifest (spec and planned runs), atomically.

        One name, one spec: a manifest written from another spec file with another content is an error,
        so two specs cannot silently replace each other's plan (editing and rerunning one file is fine)."""
        path = self.exp_dir / f"{name}.json"
        with self.lock():
            old = self._read_manifest(path) if path.exists() else None
            if old is not None and _conflict(old, manifest):
                raise InputError(
                    "name",
                    f"experiment '{name}' in store '{self.root}' was written by another "
                    f"spec ({old.get('source_path') or old.get('source') or 'Python'}); "
                    "rename this one (name:) or use another store",
                )
            tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
            tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)

    def experiments(self) -> dict[str, dict[str, Any]]:
        """Manifests by experiment name (unreadable ones are moved to quarantine with a notice)."""
        found = {p.stem: self._read_manifest(p) for p in sorted(self.exp_dir.glob("*.json"))}
        return {name: m for name, m in found.items() if m is not None}

    def _read_manifest(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if _manifest_shaped(data):
                return data
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            pass
        self._quarantine([path], self.exp_dir / "quarantine", "experiment manifest")
        return None

    def run_files(self) -> list[Path]:
        """Every stored run file."""
        return sorted(self.runs_dir.glob("*.parquet"))

    def statuses(self) -> dict[str, str]:
        """Status ('ok' or 'error') of every stored run, by key."""
        return {r["key"]: r["status"] for r in self.query("SELECT key, status FROM runs")}

    def stored_status(self, key: str) -> str | None:
        """Status of the run ``key`` read from its own file (None when absent or unreadable)."""
        try:
            return str(pq.read_table(self.run_path(key), columns=["status"]).column("status")[0].as_py())
        except Exception:  # noqa: BLE001 - any unreadable file counts as not stored; heal() deals with it
            return None

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Run SQL over the view ``runs`` (every stored row); rows as dicts. Empty store -> [].

        When DuckDB cannot read the dataset, unreadable run files are moved to quarantine and the query
        is tried once more."""
        import duckdb

        params = list(params)
        try:
            return self._query(sql, params)
        except duckdb.Error as exc:
            if not self.heal():
                first = str(exc).splitlines()[0]
                raise InputError("results", f"cannot read the store '{self.root}': {first}") from None
        return self._query(sql, params)

    def _query(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        import duckdb

        if not self.run_files():
            return []
        con = duckdb.connect()
        try:
            glob = str(self.runs_dir / "*.parquet")
            con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{_sql_str(glob)}')")
            rows = con.execute(sql, params).fetchall()
            names = [d[0] for d in con.description]
            return [dict(zip(names, r)) for r in rows]
        finally:
            con.close()

    def heal(self) -> list[Path]:
        """Move every unreadable run file (empty, truncated, not Parquet, no key/status) to runs/quarantine/;
        returns where they went. Their runs count as not stored, so the next sweep redoes them."""
        bad = [p for p in self.run_files() if not _readable_run(p)]
        return self._quarantine(bad, self.quarantine_dir, "run file")

    def _quarantine(self, files: list[Path], folder: Path, what: str) -> list[Path]:
        moved = []
        for src in files:
            folder.mkdir(parents=True, exist_ok=True)
            dst = folder / src.name
            if dst.exists():
                dst = folder / f"{src.name}.{time.time_ns()}"
            try:
                os.replace(src, dst)
            except FileNotFoundError:  # another process moved it first
                continue
            moved.append(dst)
        if moved:
            self.quarantined += moved
            names = ", ".join(p.name for p in moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
            self.notice(f"{len(moved)} unreadable {what}{'s' if len(moved) > 1 else ''} moved to {folder}: {names}")
        return moved

    def rows(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Full rows by key (all, or only ``keys``)."""
        if keys is None:
            return {r["key"]: r for r in self.query("SELECT * FROM runs")}
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        return {r["key"]: r for r in self.query("SELECT * FROM runs WHERE list_contains(?, key)", [wanted])}


def _readable_run(path: Path) -> bool:
    """Whether a run file decodes completely, has the store's schema and holds a row."""
    try:
        table = pq.read_table(path)
        return table.num_rows >= 1 and table.schema.equals(SCHEMA, check_metadata=False)
    except Exception:  # noqa: BLE001 - whatever pyarrow raises, the file is unreadable
        return False


# What a manifest (runner.manifest) holds: top-level fields and each planned run's, with their JSON types.
MANIFEST_FIELDS: dict[str, tuple[type, ...]] = {"name": (str,), "spec": (dict,), "runs": (list,)}
MANIFEST_OPTIONAL: dict[str, tuple[type, ...]] = {
    "figure": (str, type(None)),
    "title": (str, type(None)),
    "source": (str, type(None)),
    "source_path": (str, type(None)),
}
# the spec as the manifest stores it (ExperimentSpec dumped): the fields figures and reports read
SPEC_FIELDS: dict[str, tuple[type, ...]] = {
    "scenario": (str,),
    "preset": (str,),
    "params": (dict,),
    "grid": (dict,),
    "seeds": (list,),
    "repetitions": (int,),
    "solvers": (list,),
}
SPEC_OPTIONAL: dict[str, tuple[type, ...]] = {"plot": (dict, type(None)), "budget": (int, type(None))}
RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "key": (str,),
    "label": (str,),
    "solver": (str,),
    "options": (dict,),
    "point": (dict,),
    "instance_seed": (int,),
    "repetition": (int,),
    "reference": (bool,),
}


def _manifest_shaped(data: Any) -> bool:
    """Whether ``data`` has a manifest's shape (else it is quarantined like a corrupt run file)."""

    def fits(obj: Any, fields: dict[str, tuple[type, ...]], optional: dict[str, tuple[type, ...]]) -> bool:
        if not isinstance(obj, dict):
            return False
        required = all(k in obj and isinstance(obj[k], t) for k, t in fields.items())
        return required and all(k not in obj or isinstance(obj[k], t) for k, t in optional.items())

    return (
        fits(data, MANIFEST_FIELDS, MANIFEST_OPTIONAL)
        and fits(data["spec"], SPEC_FIELDS, SPEC_OPTIONAL)
        and all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in data["spec"]["solvers"])
        and all(fits(r, RUN_FIELDS, {}) for r in data["runs"])
    )


def _conflict(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Two manifests of one name conflict when their specs differ and they come from different files."""
    if "source_path" in old:
        old_path = old["source_path"]
    else:  # written before manifests recorded the resolved path: resolve the path as given, from here
        old_path = str(Path(old["source"]).resolve()) if old.get("source") else None
    return old.get("spec") != new.get("spec") and old_path != new.get("source_path")


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
