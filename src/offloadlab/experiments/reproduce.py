"""`offloadlab reproduce PAPER`: run a paper's figure specs, then draw the figures and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from offloadlab.core.errors import InputError
from offloadlab.core.registry import get_paper
from offloadlab.experiments.runner import Executor, SweepSummary, run_sweep
from offloadlab.experiments.spec import load_spec


@dataclass
class Reproduction:
    """What a reproduction left behind."""

    out: Path
    summaries: list[SweepSummary] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    report: Path | None = None


def spec_paths(scenario: str, quick: bool) -> list[Path]:
    """The spec files reproducing ``scenario``'s paper (reduced with ``quick``)."""
    paper = get_paper(scenario)
    paths = paper.spec_paths(quick)
    if not paths:
        raise InputError(
            "quick" if quick else "scenario",
            f"the paper of '{scenario}' defines no {'quick ' if quick else ''}reproduction specs",
        )
    return paths


def reproduce(
    scenario: str, quick: bool, out: str | Path, executor: Executor, show_progress: bool = True
) -> Reproduction:
    """Validate every spec first, run them in turn (resuming), then save figures and report.html."""
    from offloadlab.experiments import plots
    from offloadlab.experiments.analysis import find_experiment, open_store
    from offloadlab.experiments.report import write_report

    specs = [(load_spec(p), p) for p in spec_paths(scenario, quick)]
    rep = Reproduction(Path(out))
    for spec, path in specs:
        rep.summaries.append(run_sweep(spec, out, executor, str(path), show_progress=show_progress))
        if rep.summaries[-1].interrupted:
            break
    store = open_store(out)
    for spec, _ in specs:
        exp = find_experiment(store, name=spec.name)
        if plots.drawable(exp):
            rep.figures += plots.save(exp, Path(out) / "figures")
    rep.report = write_report(store, Path(out) / "report.html")
    return rep
