"""`offloadlab reproduce SCENARIO`: run a paper's figure specs, then draw the figures and the report."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from offloadlab.core.errors import InputError
from offloadlab.experiments.runner import Executor, SweepSummary, run_sweep
from offloadlab.experiments.spec import load_spec

# Spec files (under experiments/) of each scenario's reproduced figures.
FULL_SPECS = {
    "satellite-mec": ["sat_mec_fig3_convergence.yaml", "sat_mec_fig4_terminals.yaml", "sat_mec_fig5_grid.yaml",
                      "sat_mec_table1_literal.yaml"],
}
QUICK_SPECS = {"satellite-mec": ["sat_mec_fig4_quick.yaml"]}
SPEC_DIR_ENV = "OFFLOADLAB_EXPERIMENTS"


@dataclass
class Reproduction:
    """What a reproduction left behind."""

    out: Path
    summaries: list[SweepSummary] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    report: Path | None = None


def spec_dir() -> Path:
    """The folder of spec files: $OFFLOADLAB_EXPERIMENTS, the source checkout's experiments/, or ./experiments."""
    candidates = [os.environ.get(SPEC_DIR_ENV), Path(__file__).resolve().parents[3] / "experiments",
                  Path.cwd() / "experiments"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    raise InputError("experiments", f"no experiments/ folder found; set {SPEC_DIR_ENV} to the folder of spec files")


def spec_paths(scenario: str, quick: bool) -> list[Path]:
    """The spec files reproducing ``scenario``'s figures (reduced with ``quick``)."""
    table = QUICK_SPECS if quick else FULL_SPECS
    if scenario not in table:
        raise InputError("scenario", f"no reproduction defined for '{scenario}' (available: {', '.join(table)})")
    root = spec_dir()
    return [root / name for name in table[scenario]]


def reproduce(scenario: str, quick: bool, out: str | Path, executor: Executor,
              show_progress: bool = True) -> Reproduction:
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
        if spec.plot and any(r.ok for r in exp.records):
            rep.figures += plots.save(exp, Path(out) / "figures")
    rep.report = write_report(store, Path(out) / "report.html")
    return rep
