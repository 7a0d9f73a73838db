"""The results store: a Parquet dataset with one file per run, written atomically, queried with DuckDB.

Layout of a store directory::

    runs/<key>.parquet          one row per run (see SCHEMA), replaced atomically (write temp, fsync, rename)
    experiments/<name>.json     each experiment's spec and its planned runs (key, label, grid point, seed)

Why a Parquet dataset rather than one DuckDB file: a file per run is written by a rename, which is
atomic, so a ``kill -9`` at any moment leaves either the whole run or nothing, and the file name (the
run key) makes duplicates impossible; nothing holds a lock, so figures and reports can be drawn from
a store while a sweep is still writing to it, and a store merges with another by copying files.
DuckDB reads the whole dataset with one glob when a query is needed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

HISTORY = pa.struct([("evaluations", pa.int64()), ("seconds", pa.float64()), ("best_objective", pa.float64()),
                     ("llm_calls", pa.int64()), ("llm_tokens", pa.int64())])
SCHEMA = pa.schema([
    ("key", pa.string()), ("experiment", pa.string()), ("label", pa.string()),
    ("scenario", pa.string()), ("preset", pa.string()), ("params_json", pa.string()),
    ("instance_params_json", pa.string()), ("instance_seed", pa.int64()),
    ("solver", pa.string()), ("options_json", pa.string()), ("budget", pa.int64()),
    ("repetition", pa.int64()), ("solver_seed", pa.int64()),
    ("status", pa.string()), ("error", pa.string()),
    ("objective", pa.float64()), ("feasible", pa.bool_()), ("evaluations", pa.int64()),
    ("wall_s", pa.float64()),
    ("llm_calls", pa.int64()), ("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64()),
    ("invalid_outputs", pa.int64()),
    ("stats_json", pa.string()), ("details_json", pa.string()), ("decision_json", pa.string()),
    ("history", pa.list_(HISTORY)),
    ("version", pa.string()), ("host", pa.string()), ("pid", pa.int64()),
    ("started_at", pa.string()), ("finished_at", pa.string()),
])
TMP_SUFFIX = ".tmp"


class ResultsStore:
    """A results directory: atomic per-run Parquet files plus experiment manifests."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self.exp_dir = self.root / "experiments"

    def create(self) -> "ResultsStore":
        """Make the folders and drop temp files a killed writer left behind."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.exp_dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.runs_dir.glob(f"*{TMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)
        return self

    def exists(self) -> bool:
        """Whether this directory holds a store."""
        return self.runs_dir.is_dir() and self.exp_dir.is_dir()

    def write_run(self, row: dict[str, Any]) -> Path:
        """Store one run's row under its key, atomically replacing an earlier (failed) attempt."""
        path = self.runs_dir / f"{row['key']}.parquet"
        tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
        table = pa.Table.from_pylist([{name: row.get(name) for name in SCHEMA.names}], schema=SCHEMA)
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return path

    def write_experiment(self, name: str, manifest: dict[str, Any]) -> None:
        """Store an experiment's manifest (spec and planned runs), atomically."""
        path = self.exp_dir / f"{name}.json"
        tmp = path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

    def experiments(self) -> dict[str, dict[str, Any]]:
        """Manifests by experiment name."""
        return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.exp_dir.glob("*.json"))}

    def run_files(self) -> list[Path]:
        """Every stored run file."""
        return sorted(self.runs_dir.glob("*.parquet"))

    def statuses(self) -> dict[str, str]:
        """Status ('ok' or 'error') of every stored run, by key."""
        return {r["key"]: r["status"] for r in self.query("SELECT key, status FROM runs")}

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Run SQL over the view ``runs`` (every stored row); rows as dicts. Empty store -> []."""
        import duckdb

        if not self.run_files():
            return []
        con = duckdb.connect()
        try:
            glob = str(self.runs_dir / "*.parquet")
            con.execute(f"CREATE VIEW runs AS SELECT * FROM read_parquet('{_sql_str(glob)}')")
            rows = con.execute(sql, list(params)).fetchall()
            names = [d[0] for d in con.description]
            return [dict(zip(names, r)) for r in rows]
        finally:
            con.close()

    def rows(self, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Full rows by key (all, or only ``keys``)."""
        if keys is None:
            return {r["key"]: r for r in self.query("SELECT * FROM runs")}
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        return {r["key"]: r for r in self.query("SELECT * FROM runs WHERE list_contains(?, key)", [wanted])}


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
