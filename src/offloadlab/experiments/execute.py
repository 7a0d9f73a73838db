"""One run of a sweep: the instance generated, solved through core.run.solve, and its store row."""

from __future__ import annotations

import json
import math
import os
import socket
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offloadlab.core.errors import mask_secrets
from offloadlab.core.io import scratch_logdir
from offloadlab.experiments.confine import confine_options
from offloadlab.experiments.plan import RunConfig

LLM_STATS = ("llm_calls", "prompt_tokens", "completion_tokens", "invalid_outputs")


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def thin_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the first point, every point where the best objective changes, and the last point.

    Lossless for the best-so-far step curve on any of the history's (monotone) axes.
    """
    kept = [
        h
        for j, h in enumerate(history)
        if j in (0, len(history) - 1) or h["best_objective"] != history[j - 1]["best_objective"]
    ]
    return [{**h, "best_objective": h["best_objective"] if h["best_objective"] is not None else math.inf} for h in kept]


def execute_run(cfg: RunConfig, experiment: str) -> dict[str, Any]:
    """Generate the instance, solve it through core.run.solve, and return the store row (never raises)."""
    row: dict[str, Any] = {
        "key": cfg.key,
        "experiment": experiment,
        "label": cfg.label,
        "scenario": cfg.scenario,
        "preset": cfg.preset,
        "params_json": json.dumps(cfg.params, sort_keys=True),
        "instance_seed": cfg.instance_seed,
        "solver": cfg.solver,
        "options_json": json.dumps(cfg.options, sort_keys=True),
        "budget": cfg.budget,
        "repetition": cfg.repetition,
        "solver_seed": cfg.solver_seed,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": now_iso(),
    }
    t0 = time.perf_counter()
    try:
        with scratch_logdir():  # libraries' temp folders (SB3-*) go with the run
            row.update(_solved(cfg))
    except Exception as exc:  # a failing run is recorded and retried on the next rerun, never fatal
        tb = traceback.format_exc(limit=-3)
        row.update({"status": "error", "error": mask_secrets(f"{type(exc).__name__}: {exc}\n{tb}")[-4000:]})
    row["wall_s"] = time.perf_counter() - t0
    row["finished_at"] = now_iso()
    return row


def _solved(cfg: RunConfig) -> dict[str, Any]:
    """The result columns of a run: generate the instance and solve it."""
    from offloadlab.core.registry import get_scenario
    from offloadlab.core.run import solve

    options = confine_options(cfg.options, Path(cfg.root), "option") if cfg.root else cfg.options
    data = get_scenario(cfg.scenario).make_instance(cfg.instance_seed, cfg.preset, **cfg.params)
    _, _, result = solve(data, cfg.solver, cfg.solver_seed, cfg.budget, **options)
    res = result.to_json()
    stats = res["stats"]
    return {
        "status": "ok",
        "instance_params_json": json.dumps(data.get("params", {}), sort_keys=True),
        "objective": res["objective"],
        "feasible": res["feasible"],
        "evaluations": _int_or_none(stats.get("evaluations")),
        "stats_json": json.dumps(stats, sort_keys=True),
        "details_json": json.dumps(res["details"]),
        "decision_json": json.dumps(res["decision"]),
        "history": thin_history(res["history"]),
        **{k: _int_or_none(stats.get(k)) for k in LLM_STATS},
    }


def _int_or_none(x: Any) -> int | None:
    """An int64 column value: finite numbers within int64, else None."""
    if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and abs(x) < 2**63:
        return int(x)
    return None
