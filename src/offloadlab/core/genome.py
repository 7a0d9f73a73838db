"""Genomes: the vector encodings that evolutionary solvers search over.

A genome maps a flat vector of genes (real or integer, each within bounds) to a batch of
decisions and back. The default is the DecisionSpace's own flat vector followed by the problem's
``repair``; a scenario can offer a more compact encoding through ``problem.genome(instance)``
(e.g. one gene per terminal for "local, or which satellite and sub-channel"), so that a single gene
change is a meaningful move in its decision space. The decoded decisions are always evaluated by
the scenario's model; a genome only chooses which decisions are reachable and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.problem import HasGenome, Repairable
from offloadlab.core.space import DecisionSpace


class Genome(Protocol):
    """Flat gene vectors [B, D] with bounds ``lo``/``hi`` and an ``integer`` mask, and their decisions."""

    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Decisions (batched, repaired) of gene vectors [B, D]."""
        ...

    def encode(self, decisions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Gene vectors [B, D] of batched decisions (the inverse of decode where it is one-to-one)."""
        ...


class FlatGenome:
    """The DecisionSpace's flat vector; decoded decisions pass through ``problem.repair`` if it has one."""

    def __init__(self, problem: Any, instance: Any):
        self.problem, self.instance = problem, instance
        self.space: DecisionSpace = problem.decision_space(instance)
        self.lo, self.hi = self.space.flat_bounds
        self.integer = self.space.flat_integer

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Repaired decisions of flat vectors [B, D]."""
        d = self.space.decode(X)
        return self.problem.repair(self.instance, d) if isinstance(self.problem, Repairable) else d

    def encode(self, decisions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Flat vectors of batched decisions."""
        return self.space.encode(decisions)


GENOME_KINDS = ("scenario", "flat")


def genome_for(problem: Any, instance: Any, kind: str = "scenario") -> Genome:
    """The scenario's own genome (``kind='scenario'``, the flat one if it offers none) or the flat one."""
    if kind not in GENOME_KINDS:
        raise InputError("option encoding", f"'{kind}' is not one of: {', '.join(GENOME_KINDS)}")
    if kind == "scenario" and isinstance(problem, HasGenome):
        return problem.genome(instance)
    return FlatGenome(problem, instance)
