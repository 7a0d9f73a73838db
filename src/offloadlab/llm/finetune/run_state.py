"""A training run's folder: run.json (identity, wall-time segments, done flag) and the curve JSON.

run.json is what makes a rerun safe: the same config and data continue from the last checkpoint,
different ones are refused (InputError), a finished run is returned as it is.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

from offloadlab.core.errors import InputError


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a crash never leaves half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


class RunState:
    """The persistent record of one training run in ``out_dir``."""

    def __init__(self, out_dir: Path, identity: dict[str, Any]):
        self.out_dir = out_dir
        self.path = out_dir / "run.json"
        out_dir.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            self.data = json.loads(self.path.read_text())
            if self.data.get("identity") != identity:
                raise InputError(
                    "out_dir", f"'{out_dir}' holds a run with another config, data or base; use a new folder"
                )
        else:
            self.data = {"identity": identity, "segments": [], "done": False, "outputs": {}}
            self.save()
        self.started = time.time()

    @property
    def done(self) -> bool:
        """Whether a previous call finished this run."""
        return bool(self.data["done"])

    def prior_wall_s(self) -> float:
        """Wall time of the earlier (possibly interrupted) segments."""
        return float(sum(s["wall_s"] for s in self.data["segments"]))

    def close_segment(self, from_step: int, to_step: int, status: str) -> None:
        """Record this call's wall time and how far it got."""
        self.data["segments"].append(
            {
                "started": self.started,
                "wall_s": time.time() - self.started,
                "from_step": from_step,
                "to_step": to_step,
                "status": status,
            }
        )
        self.data["wall_s"] = self.prior_wall_s()
        self.save()

    def finish(self, outputs: dict[str, Any]) -> None:
        """Mark the run finished with its output paths and numbers."""
        self.data["outputs"] = outputs
        self.data["done"] = True
        self.save()

    def save(self) -> None:
        """Persist run.json."""
        write_json(self.path, self.data)


class Curve:
    """Training curve points ``{step, value, elapsed_s, ...}`` kept across resumes in ``curve.json``."""

    def __init__(self, path: Path, kind: str, metric: str, resume_step: int, prior_wall_s: float):
        self.path, self.kind, self.metric = path, kind, metric
        old = json.loads(path.read_text())["points"] if path.is_file() else []
        # points after the checkpoint we resume from will be recomputed
        self.points: list[dict[str, Any]] = [p for p in old if p["step"] <= resume_step]
        self.t0 = time.time() - prior_wall_s

    def add(self, step: int, logs: dict[str, Any]) -> None:
        """Add one logged step (if it carries the metric) and rewrite the file."""
        if self.metric not in logs:
            return
        extra = {k: v for k, v in logs.items() if isinstance(v, (int, float)) and k != self.metric}
        self.points.append(
            {"step": step, "value": float(logs[self.metric]), "elapsed_s": round(time.time() - self.t0, 3), **extra}
        )
        write_json(self.path, {"kind": self.kind, "metric": self.metric, "points": self.points})


def peak_rss_gb() -> float:
    """Peak resident memory of this process in GB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1e6 if platform.system() != "Darwin" else kb / 1e9
