"""What a paper folder (papers/<id>/) registers: its figure specs (full and quick), its claims checks, and
drawers for the figures that the generic plot kinds cannot draw. Experiments, plots and reports read
everything scenario-specific from here and from the scenario's manifest. The paper's status line is not
typed here: it is computed from the claims table saved beside the specs (``claims.json``, written by
``offloadlab report STORE --save-claims``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.figure

from offloadlab.experiments.analysis import Experiment
from offloadlab.experiments.claims import Claim, settle

Drawer = Callable[[Experiment], "matplotlib.figure.Figure | None"]


@dataclass(frozen=True)
class Paper:
    """A paper's reproduction: specs in ``spec_dir``, claims checks (``check_claims`` of papers/<id>/claims.py)
    and special figures."""

    scenario: str
    title: str
    spec_dir: Path
    specs: tuple[str, ...]
    quick_specs: tuple[str, ...]
    claims: Callable[[list[Experiment]], list[Claim]] | None = None
    # Drawers keyed by the experiment's figure id; each returns None when it cannot draw that experiment.
    drawers: dict[str, Drawer] = field(default_factory=dict)

    def spec_paths(self, quick: bool) -> list[Path]:
        """The spec files of the full (or quick) reproduction."""
        return [self.spec_dir / name for name in (self.quick_specs if quick else self.specs)]

    @property
    def claims_file(self) -> Path:
        """The paper's latest computed claims table (generated, committed beside the specs)."""
        return self.spec_dir.parent / "claims.json"

    def check_claims(self, experiments: list[Experiment]) -> list[Claim]:
        """The paper's claims checked against stored experiments, each naming the runs it used."""
        return settle(self.claims(experiments), experiments) if self.claims else []

    def status(self) -> str:
        """The status line computed from the latest saved claims table."""
        from offloadlab.experiments.claims_table import load_table, status_of

        return status_of(load_table(self.claims_file))

    def draw(self, exp: Experiment) -> matplotlib.figure.Figure | None:
        """The paper's own figure for an experiment, or None to use the generic plot kinds."""
        drawer = self.drawers.get(exp.figure or "")
        return drawer(exp) if drawer else None
