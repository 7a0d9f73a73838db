"""Reading mec-queues' stored runs in both worlds: per method and grid point, the closed-loop metrics (the
episode in the simulator) and the open-loop metrics (the authors' one-step formula on a fixed test set),
pooled over the instance seeds. Shared by the paper's drawers, claims and the documentation table."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from offloadlab.experiments.analysis import Experiment
from offloadlab.scenarios.mec_queues.comllm import jain

GREEDY = "greedy-oracle"
# Label sources and simulator oracles: shown for reference, never "beaten" by a claim.
ORACLES = ("greedy-oracle", "comllm-oracle", "lookahead-oracle")
LLM_SOLVERS = ("llm-zero-shot", "llm-sft", "llm-grpo", "comllm")
PROPOSED = "comllm"
# Methods whose policy is trained for one server count (their network's sizes grow with S).
RETRAINED = ("dqn",)
# Stats keys shown as the training behind a row (those the LLM rows are expected to store; a learner's
# training record, stats["training"], is shown first).
TRAINING_KEYS = ("model", "adapter", "train_records", "training_steps", "trained_servers", "training_seconds")
RECORD_KEYS = ("env_steps", "updates", "wall_s")
CLOSED, OPEN = "closed", "open"
NOT_APPLICABLE = "not applicable without retraining (its network's input and output sizes grow with S)"
WORLD_NAMES = {CLOSED: "closed loop (simulator)", OPEN: "open loop (authors' one-step formula, slots)"}


@dataclass
class Row:
    """One method at one grid point, pooled over its stored runs (every task / test state counted once)."""

    label: str
    solver: str
    point: dict[str, Any]
    runs: int
    servers: int
    closed: dict[str, float] = field(default_factory=dict)
    open: dict[str, float] = field(default_factory=dict)
    training: str = ""
    wall_s: float = math.nan
    params: dict[str, Any] = field(default_factory=dict)  # instance parameters of its first run

    def value(self, world: str, key: str) -> float:
        """A metric of one world, nan if absent."""
        return (self.closed if world == CLOSED else self.open).get(key, math.nan)


def run_details(rec: Any) -> dict[str, Any]:
    """The stored details of a run ({} when absent)."""
    raw = rec.row.get("details_json") if rec.row is not None else None
    return json.loads(raw) if isinstance(raw, str) else (raw or {})


def run_stats(rec: Any) -> dict[str, Any]:
    """The stored stats of a run ({} when absent)."""
    raw = rec.row.get("stats_json") if rec.row is not None else None
    return json.loads(raw) if isinstance(raw, str) else (raw or {})


def run_params(rec: Any) -> dict[str, Any]:
    """The instance parameters a run was solved on ({} when absent)."""
    raw = rec.row.get("instance_params_json") if rec.row is not None else None
    return json.loads(raw) if isinstance(raw, str) else (raw or {})


def _weighted(values: list[float], weights: list[float]) -> float:
    w = np.asarray(weights, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v) & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else math.nan


def pool_closed(ds: list[dict[str, Any]]) -> dict[str, float]:
    """Closed-loop metrics over several episodes: means and drop rate per task, Jain over the summed work."""
    if not ds:
        return {}
    tasks = [float(d.get("tasks", 0)) for d in ds]
    work = np.sum([np.asarray(d.get("server_work_mbit", []), dtype=float) for d in ds], axis=0)
    return {
        "tasks": float(sum(tasks)),
        "mean_delay_slots": _weighted([d["mean_delay_slots"] for d in ds], tasks),
        "mean_delay_s": _weighted([d["mean_delay_s"] for d in ds], tasks),
        "drop_rate": _weighted([d["drop_rate"] for d in ds], tasks),
        "jain_work": jain(work) if np.size(work) else _weighted([d["jain_work"] for d in ds], tasks),
    }


def pool_open(ds: list[dict[str, Any]], servers: int) -> dict[str, float]:
    """Open-loop metrics over several test sets pooled into one (as analyze_all.py over one test file)."""
    ol = [d["open_loop"] for d in ds if isinstance(d.get("open_loop"), dict)]
    if not ol:
        return {}
    valid = [o["samples"] - o["parse_failures"] for o in ol]
    mean = _weighted([o["mean_cost_slots"] for o in ol], valid)
    oracle = _weighted([o["oracle_mean_cost_slots"] for o in ol], [o["samples"] for o in ol])
    counts = np.sum([np.asarray(o["choice_counts"], dtype=float) for o in ol], axis=0)[1:]
    chosen = np.flatnonzero(counts)
    top = int(chosen.max()) + 1 if chosen.size else 0
    return {
        "samples": float(sum(o["samples"] for o in ol)),
        "parse_failures": float(sum(o["parse_failures"] for o in ol)),
        "mean_cost_slots": mean,
        "oracle_mean_cost_slots": oracle,
        "drop_rate_pct": _weighted([o["drop_rate_pct"] for o in ol], valid),
        "performance_ratio_pct": oracle / mean * 100 if mean > 0 else math.nan,
        "jain_max_id_pct": jain(counts[:top]) * 100 if top else math.nan,
        "jain_servers_pct": jain(counts[:servers]) * 100 if top else math.nan,
    }


def training_text(stats: list[dict[str, Any]]) -> str:
    """The training behind a row (first run's stats), e.g. 'env_steps 2200, updates 600, wall_s 61.2'."""
    if not stats:
        return ""
    first = stats[0]
    stored = first.get("training")
    record: dict[str, Any] = stored if isinstance(stored, dict) else {}  # a learner's record (rl.record)
    shown = [(k, record[k]) for k in RECORD_KEYS if k in record] + [(k, first[k]) for k in TRAINING_KEYS if k in first]
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown)


def rows(exp: Experiment) -> list[Row]:
    """Every (point, label) with stored runs, both worlds pooled over seeds; the closed-loop ratio to
    greedy-oracle (greedy mean / method mean x 100) filled where greedy-oracle ran at the same point."""
    out: list[Row] = []
    for point in exp.points:
        here: list[Row] = []
        for label in exp.labels:
            recs = [r for r in exp.at(label, point) if r.ok]
            if not recs:
                continue
            ds = [run_details(r) for r in recs]
            params = run_params(recs[0])
            servers = int(params.get("servers", point.get("servers", 0)))
            here.append(
                Row(
                    label,
                    exp.solver_of(label),
                    point,
                    len(recs),
                    servers,
                    pool_closed(ds),
                    pool_open(ds, servers),
                    training_text([run_stats(r) for r in recs]),
                    float(np.mean([(r.row or {}).get("wall_s", math.nan) for r in recs])),
                    params,
                )
            )
        greedy = next((r for r in here if r.solver == GREEDY), None)
        for r in here:
            if greedy is not None and r.closed.get("mean_delay_slots", 0) > 0:
                r.closed["ratio_to_greedy_pct"] = greedy.closed["mean_delay_slots"] / r.closed["mean_delay_slots"] * 100
        out += here
    return out


def min_delay_slots(params: dict[str, Any]) -> int:
    """The least delay any task can have in the simulator, on an empty system: the smallest task computed
    locally, or uploaded (whole slots) and then served from the next slot by the fastest server alone."""
    size = float(params["size_min_mbit"])
    slot = float(params["slot_s"])
    local = size * float(params["density_gcycles_per_mbit"]) / (float(params["device_ghz"]) * slot)
    upload = size / (float(params["uplink_mbps"]) * slot)
    serve = size * float(params["density_gcycles_per_mbit"]) / (max(params["server_ghz"]) * slot)
    return int(min(math.ceil(local - 1e-9), math.ceil(upload - 1e-9) + math.ceil(serve - 1e-9)))


def fmt(x: float, digits: int = 3) -> str:
    """A number for tables and texts; '–' when not finite."""
    return f"{x:.{digits}f}" if isinstance(x, (int, float)) and math.isfinite(x) else "–"


def point_name(row: Row) -> str:
    """'S = 6' (plus any other grid coordinate)."""
    extra = [f"{k} = {v}" for k, v in row.point.items() if k != "servers"]
    return ", ".join([f"S = {row.servers}", *extra])


def method_name(row: Row) -> str:
    """The row's label, marked with its server count where the policy is trained for one count."""
    return f"{row.label} (trained at S = {row.servers})" if row.solver in RETRAINED else row.label


COLUMNS = (
    "closed: delay (slots)",
    "closed: delay (s)",
    "closed: drop %",
    "closed: greedy / method %",
    "closed: Jain (work)",
    "open: cost (slots)",
    "open: drop %",
    "open: perf. ratio %",
    "open: Jain n = max id %",
    "open: Jain n = S %",
    "open: parse failures",
)


def table_cells(row: Row) -> list[str]:
    """The both-worlds table's cells of one row (COLUMNS order)."""
    c, o = row.closed, row.open
    return [
        fmt(c.get("mean_delay_slots", math.nan)),
        fmt(c.get("mean_delay_s", math.nan)),
        fmt(100 * c.get("drop_rate", math.nan), 1),
        fmt(c.get("ratio_to_greedy_pct", math.nan), 1),
        fmt(c.get("jain_work", math.nan)),
        fmt(o.get("mean_cost_slots", math.nan)),
        fmt(o.get("drop_rate_pct", math.nan), 1),
        fmt(o.get("performance_ratio_pct", math.nan), 1),
        fmt(o.get("jain_max_id_pct", math.nan), 1),
        fmt(o.get("jain_servers_pct", math.nan), 1),
        str(int(o["parse_failures"])) if "parse_failures" in o else "–",
    ]


def markdown_table(exp: Experiment) -> str:
    """The both-worlds method table of an experiment as Markdown; a policy trained for one server count gets
    a 'not applicable without retraining' row at every other count."""
    table = rows(exp)
    trained_at = min((r.servers for r in table), default=0)
    lines = [f"| point | method | {' | '.join(COLUMNS)} | runs | training |", "|" + "---|" * (len(COLUMNS) + 4)]
    for r in table:
        lines.append(
            f"| {point_name(r)} | {method_name(r)} | {' | '.join(table_cells(r))} | {r.runs} | {r.training or '–'} |"
        )
        if r.solver in RETRAINED and r.servers != trained_at:
            lines.append(
                f"| {point_name(r)} | {r.label} (trained at S = {trained_at}) | {NOT_APPLICABLE} |"
                + " |" * (len(COLUMNS) + 1)
            )
    return "\n".join(lines) + "\n"
