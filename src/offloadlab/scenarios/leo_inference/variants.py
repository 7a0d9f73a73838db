"""On-board model variants of Tables II-III: per processor and model family, the unadapted model's latency
and the variant adaptive modelling selected (its latency and accuracy). One source, read by the scenario
(each satellite's c(m_i) per image and a_i) and by the adaptive modelling (the tables it reproduces).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from offloadlab.core.errors import InputError

FAMILIES = ("mb", "shuffle")  # keys of the shipped file: MobileNetV3 (Table II), ShuffleNetV2 (Table III)


@dataclass(frozen=True)
class PaperRow:
    """One processor and model family of Tables II-III."""

    processor: str
    family: str
    wo_ms: float
    w_ms: float
    acc_pct: float


@dataclass(frozen=True)
class PaperTables:
    """Tables II-III with the paper's latency interval and original accuracies."""

    rows: tuple[PaperRow, ...]
    interval_ms: tuple[float, float]
    original_acc_pct: dict[str, float]
    family_names: dict[str, str]

    def row(self, family_name: str, processor: str) -> PaperRow:
        """The row of a processor in the table of a family given by its name (``MobileNetV3``, ...)."""
        fam = family_key(self, family_name)
        for r in self.rows:
            if r.family == fam and r.processor == processor:
                return r
        known = sorted({r.processor for r in self.rows})
        raise InputError("processor", f"{processor!r} is not in Tables II-III (known: {', '.join(known)})")

    @property
    def processors(self) -> list[str]:
        """Processors in table order."""
        return list(dict.fromkeys(r.processor for r in self.rows))


def family_key(tables: PaperTables, family_name: str) -> str:
    """Key (``mb``/``shuffle``) of a family name; InputError naming the known ones."""
    for key, name in tables.family_names.items():
        if name == family_name:
            return key
    raise InputError("model_family", f"unknown {family_name!r} (known: {', '.join(tables.family_names.values())})")


@cache
def load_paper_tables() -> PaperTables:
    """Tables II-III as shipped in ``data/soc_tables.json``."""
    data = json.loads(resources.files(__package__).joinpath("data", "soc_tables.json").read_text())
    rows = tuple(
        PaperRow(r["processor"], fam, float(r[fam]["wo_ms"]), float(r[fam]["w_ms"]), float(r[fam]["acc_pct"]))
        for fam in FAMILIES
        for r in data["rows"]
    )
    lo, hi = data["interval_ms"]
    return PaperTables(rows, (float(lo), float(hi)), dict(data["original_accuracy_pct"]), dict(data["family_names"]))


def onboard_variant(family_name: str, processor: str, adapted: bool) -> tuple[float, float]:
    """(ms per image, top-1 accuracy in [0, 1]) of the model a satellite with ``processor`` runs: the family's
    unadapted model (the table's latency without adaptive modeling, the family's original accuracy) or the
    variant adaptive modelling selected for that processor (the table's latency with it and its accuracy)."""
    tables = load_paper_tables()
    row = tables.row(family_name, processor)
    if adapted:
        return row.w_ms, row.acc_pct / 100.0
    return row.wo_ms, tables.original_acc_pct[row.family] / 100.0
