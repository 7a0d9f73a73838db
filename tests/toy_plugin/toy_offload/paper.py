"""Papers layer: the toy paper's one claim, checked against stored runs."""

from __future__ import annotations

from pathlib import Path

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import AGREES, DISAGREES, NOT_MEASURED, Claim
from offloadlab.experiments.paper import Paper

from .model import SCENARIO_ID


def claims(experiments: list[Experiment]) -> list[Claim]:
    """'Greedy offloading beats computing everything locally' at every grid point."""
    out = []
    text = "greedy beats random choice at every N"
    for exp in experiments:
        if not exp.labels_of("greedy") or not exp.labels_of("random"):
            out.append(Claim(exp.name, exp.figure or "", text, "greedy or random not run", NOT_MEASURED))
            continue
        g, r = exp.labels_of("greedy")[0], exp.labels_of("random")[0]
        means = [(exp.cell(g, p).mean, exp.cell(r, p).mean) for p in exp.points]
        holds = all(a <= b for a, b in means)
        measured = "; ".join(f"{exp.point_label(p)}: {a:.3g} vs {b:.3g} s" for p, (a, b) in zip(exp.points, means))
        out.append(Claim(exp.name, exp.figure or "", text, measured, AGREES if holds else DISAGREES))
    return out


PAPER = Paper(
    scenario=SCENARIO_ID,
    title="Toy offloading (tests only)",
    spec_dir=Path(__file__).parent / "specs",
    specs=("toy_lines.yaml",),
    quick_specs=("toy_lines.yaml",),
    claims=claims,
)
