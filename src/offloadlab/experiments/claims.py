"""'Paper claims vs measured', the engine shared by every paper: the Claim row, the verdicts, the per-point
judge, "not measured", number formatting and tolerances. A paper (papers/<id>/claims.py) supplies only its
judges, through one entry point ``check_claims(experiments) -> list[Claim]``; ``settle`` then names the
stored runs behind each row and refuses a verdict that has none."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from offloadlab.experiments.analysis import Experiment

AGREES, DISAGREES, PARTLY, NOT_MEASURED = "agrees", "disagrees", "partly", "not measured"
VERDICTS = (AGREES, PARTLY, DISAGREES, NOT_MEASURED)
CLOSE = 0.05  # relative difference below which two values count as "close" (a paper's "≈")
TIE = 1e-3  # relative difference below which two values count as equal (no ranking)
FAILS = " (fails)"  # appended to a case that does not hold
NO_DATA = "no stored runs"

P = TypeVar("P")


@dataclass
class Claim:
    """One claim of the paper and what the stored runs say about it; ``runs`` names the runs (run keys, or a
    named source such as a shipped reproduction) that the verdict was computed from."""

    experiment: str
    figure: str
    paper: str
    measured: str
    verdict: str
    runs: tuple[str, ...] = field(default=())


def verdict(hits: int, total: int) -> str:
    """'agrees' when every case holds, 'disagrees' when none does, 'partly' otherwise; without a single case
    judged there is nothing to agree with: 'not measured'."""
    if total <= 0:
        return NOT_MEASURED
    return AGREES if hits == total else DISAGREES if hits == 0 else PARTLY


def not_measured(experiment: str, figure: str, paper: str, why: str) -> Claim:
    """A claim that the stored runs cannot decide, with the reason."""
    return Claim(experiment, figure, paper, why, NOT_MEASURED)


def absent(names: Iterable[str]) -> str:
    """'no stored runs of A, B' (the reason a claim is not measured)."""
    listed = ", ".join(names)
    return f"{NO_DATA} of {listed}" if listed else NO_DATA


def fmt(x: float, unit: str = "", digits: int = 4) -> str:
    """A number with ``digits`` significant digits and an optional unit; 'n/a' when not finite."""
    if not (isinstance(x, (int, float)) and math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}" + (f" {unit}" if unit else "")


def pct(x: float, digits: int = 1) -> str:
    """A fraction as a percentage ('n/a' when not finite)."""
    return f"{100 * x:.{digits}f} %" if math.isfinite(x) else "n/a"


def close(a: float, b: float, rel: float = CLOSE) -> bool:
    """``a`` within ``rel`` of ``b`` (relative to |b|)."""
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= rel * abs(b)


def about(mean: float, target: float, tolerance: float) -> str:
    """A claimed number "about X": 'agrees' within ``tolerance`` (absolute) of X, 'partly' with X's sign and at
    least half its size, 'disagrees' otherwise; 'not measured' without a finite mean."""
    if not math.isfinite(mean):
        return NOT_MEASURED
    if abs(mean - target) <= tolerance:
        return AGREES
    return PARTLY if mean / target >= 0.5 else DISAGREES


# A judged case: (holds, text), or a bare text for a case that could not be judged (shown, not counted).
Judged = tuple[bool, str] | str


def per_point(
    experiment: str,
    figure: str,
    paper: str,
    points: Sequence[P],
    judge: Callable[[P], Judged],
    where: Callable[[P], str],
    note: str = "",
    marker: str = "",
) -> Claim:
    """Judge every point with ``judge(point)``; the verdict counts the judged points only, so a claim without
    any judged point is 'not measured'. ``marker`` is appended to the text of a case that does not hold."""
    parts, hits, total = [], 0, 0
    for p in points:
        res = judge(p)
        if isinstance(res, str):
            parts.append(f"{where(p)}: {res}")
            continue
        ok, text = res
        hits += ok
        total += 1
        parts.append(f"{where(p)}: {text}{'' if ok else marker}")
    text = "; ".join(parts) or NO_DATA
    return Claim(experiment, figure, paper, text + (f" — {note}" if note else ""), verdict(hits, total))


def stored_runs(experiments: Iterable[Experiment], names: Iterable[str] | None = None) -> tuple[str, ...]:
    """Keys of the successful stored runs of the experiments (of those named in ``names``, when given)."""
    wanted = None if names is None else set(names)
    return tuple(r.key for e in experiments if wanted is None or e.name in wanted for r in e.records if r.ok and r.row)


def _named(experiment: str) -> list[str]:
    return [n.strip() for n in experiment.split(",") if n.strip() and n.strip() != "-"]


def settle(claims: list[Claim], experiments: list[Experiment]) -> list[Claim]:
    """Every row with the stored runs it used: a row that does not name its runs gets those of the experiments
    it names; a verdict with no run behind it becomes 'not measured' (a verdict needs data)."""
    out = []
    for c in claims:
        runs = c.runs or stored_runs(experiments, _named(c.experiment))
        if not runs and c.verdict != NOT_MEASURED:
            c = replace(c, measured=f"{c.measured} [{NO_DATA} behind this verdict]", verdict=NOT_MEASURED)
        out.append(replace(c, runs=runs))
    return out


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


def tally(claims: Iterable[Claim]) -> dict[str, int]:
    """How many rows carry each verdict (every verdict present, zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for c in claims:
        counts[c.verdict] += 1
    return counts


def status_line(claims: Sequence[Claim]) -> str:
    """The paper's status, computed from its claims table: 'N of M claims agree, P partly, D disagree, X not
    measured' (the parts with a zero count left out)."""
    if not claims:
        return "no claims table computed yet"
    n = tally(claims)
    rest = [f"{n[v]} {'disagree' if v == DISAGREES else v}" for v in (PARTLY, DISAGREES, NOT_MEASURED) if n[v]]
    return f"{n[AGREES]} of {len(claims)} claims agree" + "".join(f", {r}" for r in rest)


def claim_row(c: Claim) -> dict[str, Any]:
    """A claim as the JSON row of a saved claims table."""
    return {
        "figure": c.figure,
        "experiment": c.experiment,
        "paper": c.paper,
        "measured": c.measured,
        "verdict": c.verdict,
        "runs": list(c.runs),
    }


def claim_of(row: dict[str, Any]) -> Claim:
    """A saved claims-table row as a Claim (every field required)."""
    verdict_ = row["verdict"]
    if verdict_ not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict_!r} (expected one of {', '.join(VERDICTS)})")
    return Claim(row["experiment"], row["figure"], row["paper"], row["measured"], verdict_, tuple(row["runs"]))
