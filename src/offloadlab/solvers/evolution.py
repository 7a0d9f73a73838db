"""Evolutionary operators on whole populations as numpy arrays: gene matrices X [B, D] within bounds
``lo``/``hi`` (an ``integer`` mask marks the integer genes), constraint values ``cv`` [B] (0 = feasible)
and objectives ``f`` [B], both minimised.

Each operator is the population-wide form of the pymoo 0.6 operator the GA used before, formula for
formula (binary tournament ``comp_by_cv_and_fitness``, ``SBX``, ``PM`` with a uniform reset of
integer genes, ``FitnessSurvival``, the mating loop that refills duplicates), so the GA searches as it
did on pymoo, in law though not draw for draw; no per-individual object is ever made, which is where
pymoo spent over 90 % of a run (see ``solvers.ga``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SBX_ETA = 15.0  # pymoo's SBX defaults: distribution index and per-gene crossover probability
SBX_GENE_PROB = 0.5
MAX_MATING_PASSES = 100  # as pymoo: give up filling the offspring after this many passes
MIN_NOVEL_RATE = 0.1  # a pass draws at most 1 / this many children per offspring still needed


@dataclass(frozen=True)
class Bounds:
    """Gene bounds [D] and the integer-gene mask [D]."""

    lo: np.ndarray
    hi: np.ndarray
    integer: np.ndarray


def ranked(cv: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Indices from best to worst: least constraint value first, then smallest objective (stable)."""
    return np.lexsort((f, cv))


def duel(a: np.ndarray, b: np.ndarray, cv: np.ndarray, f: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Winners of the contests a[k] against b[k]: if either is infeasible the smaller constraint value
    wins, else the smaller objective; ties are broken at random."""
    by_cv = (cv[a] > 0) | (cv[b] > 0)
    ka, kb = np.where(by_cv, cv[a], f[a]), np.where(by_cv, cv[b], f[b])
    coin = rng.random(len(a)) < 0.5
    return np.where(ka < kb, a, np.where(kb < ka, b, np.where(coin, a, b)))


def tournament(cv: np.ndarray, f: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Winners [n] of binary tournaments (``duel``) among the population's indices. Contestants are
    drawn from concatenated random permutations, so every member enters about equally often."""
    size = len(cv)
    perms = -(-2 * n // size)
    # consecutive entries of a permutation meet, so a member rarely meets itself
    a, b = rng.permuted(np.tile(np.arange(size), (perms, 1)), axis=1).ravel()[: 2 * n].reshape(n, 2).T
    return duel(a, b, cv, f, rng)


def sbx(
    x1: np.ndarray,
    x2: np.ndarray,
    bounds: Bounds,
    rng: np.random.Generator,
    eta: float = SBX_ETA,
    gene_prob: float = SBX_GENE_PROB,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated binary crossover of parent rows x1, x2 [n, D]: two children, each gene crossed with
    probability ``gene_prob`` (never where the parents agree within 1e-14 or the bounds are equal),
    the children's values of a crossed gene swapped with probability 1/2."""
    cross = (rng.random(x1.shape) < gene_prob) & (np.abs(x1 - x2) > 1e-14) & (bounds.lo != bounds.hi)
    rows, cols = np.nonzero(cross)  # only the crossed genes are computed
    a, b = x1[rows, cols], x2[rows, cols]
    lo, hi = bounds.lo[cols], bounds.hi[cols]
    y1, y2 = np.minimum(a, b), np.maximum(a, b)
    delta = y2 - y1
    rand = rng.random(len(rows))

    def spread(beta: np.ndarray) -> np.ndarray:
        alpha = 2.0 - beta ** -(eta + 1.0)
        inner = np.where(rand <= 1.0 / alpha, rand * alpha, 1.0 / (2.0 - rand * alpha))
        return inner ** (1.0 / (eta + 1.0))

    low = 0.5 * (y1 + y2 - spread(1.0 + 2.0 * (y1 - lo) / delta) * delta)
    high = 0.5 * (y1 + y2 + spread(1.0 + 2.0 * (hi - y2) / delta) * delta)
    # pymoo gives the low value to the smaller parent's child, then swaps with probability 1/2 xor'd
    # with the parents' order: in law, child 1 takes either value with probability 1/2
    swap = rng.random(len(rows)) < 0.5
    child1, child2 = x1.copy(), x2.copy()
    child1[rows, cols] = np.clip(np.where(swap, high, low), lo, hi)
    child2[rows, cols] = np.clip(np.where(swap, low, high), lo, hi)
    return child1, child2


def mutate(X: np.ndarray, bounds: Bounds, rng: np.random.Generator, gene_prob: float, eta: float) -> np.ndarray:
    """Mutated rows: every gene with probability ``gene_prob`` gets polynomial mutation (distribution
    index ``eta``) if continuous, a uniform random reset if integer."""
    span = bounds.hi - bounds.lo
    rows, cols = np.nonzero((rng.random(X.shape) < gene_prob) & (span > 0))  # only these are computed
    x, lo, hi, width = X[rows, cols], bounds.lo[cols], bounds.hi[cols], span[cols]
    rand = rng.random(len(rows))
    power = 1.0 / (eta + 1.0)
    down = (2.0 * rand + (1.0 - 2.0 * rand) * (1.0 - (x - lo) / width) ** (eta + 1.0)) ** power - 1.0
    up = 1.0 - (2.0 * (1.0 - rand) + 2.0 * (rand - 0.5) * (1.0 - (hi - x) / width) ** (eta + 1.0)) ** power
    stepped = np.clip(x + np.where(rand <= 0.5, down, up) * width, lo, hi)
    reset = np.minimum(np.floor(lo + rng.random(len(rows)) * (width + 1)), hi)
    Y = X.copy()
    Y[rows, cols] = np.where(bounds.integer[cols], reset, stepped)
    return Y


def repair(X: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Genes clipped to their bounds, integer genes rounded; -0.0 made 0.0 so equal genes have equal bytes."""
    X = np.clip(X, bounds.lo, bounds.hi)
    return np.where(bounds.integer, np.round(X), X) + 0.0


@lru_cache(maxsize=8)
def _row_hash(genes: int) -> np.ndarray:
    """Odd uint64 multipliers, one per gene, of the row hash in ``novel`` (fixed: runs are reproducible)."""
    return np.random.default_rng(0).integers(0, 2**63, genes, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def novel(X: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Mask [len(X)] of the rows of X that equal neither a row of ``seen`` nor an earlier row of X.

    Rows are hashed to one uint64: each gene's bit pattern is mixed (xor-shifts and an odd multiplier,
    a bijection, since small integers' float patterns end in zeros), times an odd constant per gene,
    summed modulo 2**64 (rows differing in one gene never collide). Rows are stably sorted by hash,
    and a row is a duplicate only if it equals the row before it in that order: a hash collision can
    at worst let a duplicate through, never drop a new row."""
    both = np.ascontiguousarray(np.concatenate([seen, X]), dtype=float) + 0.0  # -0.0 == 0.0
    bits = both.view(np.uint64)
    bits = bits ^ (bits >> np.uint64(31))
    bits = bits * np.uint64(0xBF58476D1CE4E5B9)
    bits = bits ^ (bits >> np.uint64(29))
    keys = (bits * _row_hash(both.shape[1])).sum(axis=1, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")
    same_key = np.flatnonzero(keys[order[1:]] == keys[order[:-1]])
    repeat = same_key[np.all(both[order[same_key + 1]] == both[order[same_key]], axis=1)]
    first = np.ones(len(both), dtype=bool)
    first[order[repeat + 1]] = False
    return first[len(seen) :]


class Breeder:
    """Breeds a population's offspring: tournament pairs, each pair crossed with probability
    ``crossover_prob`` (else the children copy the parents), each child mutated with probability
    ``mutation_prob``, ``fix`` (the repair), and only rows new to the population and to each other.

    A child neither crossed nor mutated copies a member, so it is not even made (pymoo makes it and
    drops it as a duplicate). Refilling the dropped duplicates: a pass draws pairs in proportion to
    the rate of new rows per child the last pass found (remembered across generations), so a
    generation takes one or two passes rather than pymoo's one per shortfall. Taking the first new
    rows of a larger draw gives the offspring pymoo's sequential refill would, in law; fewer than
    asked come back only when ``MAX_MATING_PASSES`` passes found no more."""

    def __init__(
        self,
        bounds: Bounds,
        crossover_prob: float,
        mutation_prob: float,
        gene_mutation_prob: float,
        eta_mutation: float,
        fix: Callable[[np.ndarray], np.ndarray],
    ):
        self.bounds, self.fix = bounds, fix
        self.crossover_prob, self.mutation_prob = crossover_prob, mutation_prob
        self.gene_mutation_prob, self.eta_mutation = gene_mutation_prob, eta_mutation
        self.novel_rate = 1.0

    def children(
        self, X: np.ndarray, cv: np.ndarray, f: np.ndarray, pairs: int, rng: np.random.Generator
    ) -> np.ndarray:
        """The repaired children of ``pairs`` tournament pairs that were crossed or mutated, in mating order."""
        parents = X[tournament(cv, f, 2 * pairs, rng)].reshape(pairs, 2, X.shape[1])
        crossed = rng.random(pairs) < self.crossover_prob
        mutated = rng.random((pairs, 2)) <= self.mutation_prob
        kids = parents.copy()
        c = np.flatnonzero(crossed)
        kids[c, 0], kids[c, 1] = sbx(parents[c, 0], parents[c, 1], self.bounds, rng)
        made = crossed[:, None] | mutated
        kids, mutated = kids[made], mutated[made]
        kids[mutated] = mutate(kids[mutated], self.bounds, rng, self.gene_mutation_prob, self.eta_mutation)
        return self.fix(kids)

    def offspring(self, X: np.ndarray, cv: np.ndarray, f: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Up to ``n`` new gene rows bred from the population (X, cv, f)."""
        kept = np.empty((0, X.shape[1]))
        for _ in range(MAX_MATING_PASSES):
            need = n - len(kept)
            if need <= 0:
                break
            # a few spare pairs so that one pass usually suffices
            pairs = int(np.ceil(1.1 * need / (2 * max(self.novel_rate, MIN_NOVEL_RATE))))
            children = self.children(X, cv, f, pairs, rng)
            new = children[novel(children, np.concatenate([X, kept]))]
            self.novel_rate = len(new) / (2 * pairs)
            kept = np.concatenate([kept, new[:need]])
        return kept
