"""'Paper claims vs measured', generic part: the Claim row, the verdicts, and the dispatch of each stored
experiment to the checks its paper registers for that figure (papers/<id>/ holds the checks)."""

from __future__ import annotations

from dataclasses import dataclass

from offloadlab.experiments.analysis import Experiment

AGREES, DISAGREES, PARTLY, NOT_MEASURED = "agrees", "disagrees", "partly", "not measured"
VERDICTS = (AGREES, PARTLY, DISAGREES, NOT_MEASURED)


@dataclass
class Claim:
    """One claim of the paper and what the stored runs say about it."""

    experiment: str
    figure: str
    paper: str
    measured: str
    verdict: str


def verdict(hits: int, total: int) -> str:
    """'agrees' when every case holds, 'disagrees' when none does, else 'partly'."""
    return AGREES if hits == total else DISAGREES if hits == 0 else PARTLY


def evaluate_claims(experiments: list[Experiment]) -> list[Claim]:
    """Every claim that the experiments' papers check, for the experiments with stored runs."""
    from offloadlab.core.registry import papers

    table = papers()
    out: list[Claim] = []
    stored = [e for e in experiments if any(r.ok for r in e.records)]
    for scenario in dict.fromkeys(e.scenario for e in stored):
        paper = table.get(scenario)
        if paper is not None:
            out += paper.check_claims([e for e in stored if e.scenario == scenario])
    return out
