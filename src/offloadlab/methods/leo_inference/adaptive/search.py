"""Eq. 32: the most accurate architecture whose predicted latency lies in an interval [lo, hi].

Algorithm (the paper names genetic algorithms as one option and fixes none):
1. candidates: the whole space when it has at most ``enumerate_limit`` architectures, else ``samples``
   uniform random ones; their latencies are computed in one array expression;
2. the feasible set is the candidates with lo <= latency <= hi (none: an error naming the latency range);
3. if it has at most ``budget`` members, every one is scored (exhaustive);
4. otherwise a constrained evolutionary search: a random feasible population, then generations of
   children (half single-field mutations of a top parent, half uniform stage-wise crossovers of two top
   parents); children outside the interval or already scored are discarded (replaced by random unscored
   feasible candidates when a generation yields none) until ``budget`` accuracy evaluations are spent.
The winner has the highest accuracy; ties go to the lower latency, then to the earlier scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, head_ops, stage_ops, stem_ops
from offloadlab.methods.leo_inference.adaptive.space import Geometry, SearchSpace, StageChoice

LatencyFn = Callable[[np.ndarray], np.ndarray]  # genes (n, stages, 4) -> latency (n,) in seconds
AccuracyFn = Callable[[np.ndarray], float]  # genes (stages, 4) -> accuracy in [0, 1]


@dataclass(frozen=True)
class SearchResult:
    """Winner of eq. 32 and what the search spent."""

    genes: np.ndarray
    latency_s: float
    accuracy: float
    evaluated: int
    feasible: int
    candidates: int
    method: str


def additive_latency(space: SearchSpace, geo: Geometry, cost: Callable[[OpSpec], float]) -> LatencyFn:
    """Vectorised latency of architectures whose latency is a sum of per-operator costs (the CPU model).

    A stage's cost depends on its own choices and on the previous stage's width, so one table per stage
    indexed by (previous width, width, kernel, conv, repeat) is built once and gathered for any population.
    """
    stem, hw = stem_ops(space, geo)
    stem_cost = sum(cost(o) for o in stem)
    tables: list[np.ndarray] = []
    prev: tuple[int, ...] = (space.stem_channels,)
    for s, stride in enumerate(geo.strides):
        shape = (len(prev), len(space.channels[s]), len(space.kernels), len(space.convs), len(space.repeats))
        table = np.empty(shape)
        for idx in np.ndindex(shape):
            choice = StageChoice(
                space.channels[s][idx[1]], space.kernels[idx[2]], space.convs[idx[3]], space.repeats[idx[4]]
            )
            ops, out_hw = stage_ops(choice, prev[idx[0]], hw, stride, space.expand)
            table[idx] = sum(cost(o) for o in ops)
        tables.append(table)
        hw, prev = out_hw, space.channels[s]
    head = np.array([sum(cost(o) for o in head_ops(space, geo, c, hw)) for c in prev])

    def latency(genes: np.ndarray) -> np.ndarray:
        g = np.asarray(genes).reshape(-1, space.stages, 4)
        total = np.full(len(g), stem_cost) + head[g[:, -1, 0]]
        prev_idx = np.zeros(len(g), dtype=np.int64)
        for s, table in enumerate(tables):
            total += table[prev_idx, g[:, s, 0], g[:, s, 1], g[:, s, 2], g[:, s, 3]]
            prev_idx = g[:, s, 0]
        return total

    return latency


class _Scorer:
    """Accuracy evaluations with a cache and the running best (highest accuracy, then lowest latency)."""

    def __init__(self, accuracy: AccuracyFn, latency: LatencyFn):
        self.accuracy, self.latency = accuracy, latency
        self.scores: dict[bytes, tuple[float, float, np.ndarray]] = {}

    def score(self, genes: np.ndarray, lat: float) -> None:
        key = genes.tobytes()
        if key not in self.scores:
            self.scores[key] = (float(self.accuracy(genes)), lat, genes)

    def ranked(self) -> list[tuple[float, float, np.ndarray]]:
        """Scored entries best first (stable, so ties keep the scoring order)."""
        return sorted(self.scores.values(), key=lambda t: (-t[0], t[1]))


def _children(
    parents: list[np.ndarray], n: int, space: SearchSpace, rng: np.random.Generator, mutation: float
) -> np.ndarray:
    """n children: even ones mutate a parent's fields with probability ``mutation``, odd ones cross two."""
    card = space.cardinalities()
    out = np.empty((n, space.stages, 4), dtype=np.int64)
    for i in range(n):
        a = parents[rng.integers(len(parents))]
        if i % 2 == 0:
            fresh = np.floor(rng.random(card.shape) * card).astype(np.int64)
            out[i] = np.where(rng.random(card.shape) < mutation, fresh, a)
        else:
            b = parents[rng.integers(len(parents))]
            out[i] = np.where(rng.random((space.stages, 1)) < 0.5, a, b)
    return out


def search(
    space: SearchSpace,
    latency: LatencyFn,
    accuracy: AccuracyFn,
    interval_s: tuple[float, float],
    rng: np.random.Generator,
    budget: int = 100,
    enumerate_limit: int = 1_000_000,
    samples: int = 200_000,
    population: int = 16,
    parents: int = 4,
    mutation: float = 0.3,
) -> SearchResult:
    """Solve eq. 32 over ``space`` with the algorithm of the module docstring."""
    lo, hi = interval_s
    if not (0 <= lo <= hi) or budget < 1 or population < 1 or parents < 1 or not 0 <= mutation <= 1:
        raise InputError("search", "needs 0 <= lo <= hi, budget, population, parents >= 1, mutation in [0, 1]")
    cands = space.enumerate() if space.size() <= enumerate_limit else np.unique(space.sample(samples, rng), axis=0)
    lat = latency(cands)
    mask = (lat >= lo) & (lat <= hi)
    feas, feas_lat = cands[mask], lat[mask]
    if len(feas) == 0:
        raise InputError(
            "latency interval",
            f"no architecture in [{lo * 1e3:.2f}, {hi * 1e3:.2f}] ms; the "
            f"space spans [{lat.min() * 1e3:.2f}, {lat.max() * 1e3:.2f}] ms",
        )
    scorer = _Scorer(accuracy, latency)
    if len(feas) <= budget:
        for g, t in zip(feas, feas_lat):
            scorer.score(g, float(t))
        method = "exhaustive"
    else:
        for i in rng.choice(len(feas), min(population, budget), replace=False):
            scorer.score(feas[i], float(feas_lat[i]))
        while len(scorer.scores) < budget:
            top = [t[2] for t in scorer.ranked()[:parents]]
            kids = _children(top, 4 * population, space, rng, mutation)
            kid_lat = latency(kids)
            new = [(k, t) for k, t in zip(kids, kid_lat) if lo <= t <= hi and k.tobytes() not in scorer.scores]
            if not new:  # converged population: inject a random unscored feasible candidate
                unscored = [i for i in rng.permutation(len(feas)) if feas[i].tobytes() not in scorer.scores][:1]
                new = [(feas[i], feas_lat[i]) for i in unscored]
            for k, t in new[: min(population, budget - len(scorer.scores))]:
                scorer.score(k, float(t))
        method = "evolutionary"
    acc, best_lat, genes = scorer.ranked()[0]
    return SearchResult(genes, best_lat, acc, len(scorer.scores), int(len(feas)), int(len(cands)), method)
