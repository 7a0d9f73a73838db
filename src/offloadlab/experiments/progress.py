"""Live progress of a sweep (rich): runs done, ETA, the current best, one log line per finished run."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class SweepProgress:
    """A progress bar on stderr; when stderr is not a terminal, a plain line per finished run instead."""

    def __init__(self, name: str, summary: Any, enabled: bool = True):
        self.console = Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self.total = summary.planned - summary.left_out
        self.done = summary.skipped
        self.best = math.inf
        self.best_what = ""
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[best]}"),
            console=self.console,
            disable=not self.live,
        )
        self.task = self.progress.add_task(name, total=self.total, completed=self.done, best="")

    def __enter__(self) -> SweepProgress:
        self.progress.start()
        if self.enabled and self.done:
            self.console.print(f"{self.done} of {self.total} runs already stored: skipped")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def elsewhere(self, cfg: Any, status: str) -> None:
        """Account for a run another runner on the same store executed."""
        self.done += 1
        self.progress.update(self.task, advance=1)
        if self.enabled and not self.live:
            self.console.print(
                f"[{self.done}/{self.total}] {cfg.describe()}: stored by another runner ({status})", highlight=False
            )

    def advance(self, cfg: Any, row: dict[str, Any]) -> None:
        """Account for one finished run."""
        self.done += 1
        obj = row.get("objective")
        if row["status"] == "ok" and obj is not None and obj < self.best:
            self.best, self.best_what = obj, cfg.describe()
        best = f"best {self.best:.4g} ({self.best_what})" if math.isfinite(self.best) else ""
        self.progress.update(self.task, advance=1, best=best)
        if not self.enabled:
            return
        if row["status"] != "ok":
            outcome = f"[red]failed[/red]: {row['error'].splitlines()[0]}"
        elif obj is None:
            outcome = "infeasible"
        else:
            outcome = f"{obj:.6g}"
        if self.live and row["status"] == "ok":
            return
        self.console.print(
            f"[{self.done}/{self.total}] {cfg.describe()}: {outcome} ({row['wall_s']:.1f} s)", highlight=False
        )
