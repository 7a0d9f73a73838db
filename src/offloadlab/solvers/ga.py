"""Genetic algorithm (GA) on a scenario's genome, with numpy operators on whole populations.

Paper settings (seed 000, Sec. IV) are the defaults: population 400, crossover probability 0.5,
mutation probability 0.2. Choices the paper leaves open, made here:

- Encoding: the scenario's own genome when it offers one (``problem.genome``; for satellite-mec one
  option gene per terminal, "local or which satellite and sub-channel", plus one power gene, see
  ``scenarios.satellite_mec.genome``), otherwise the DecisionSpace's flat vector followed by
  ``problem.repair``; ``encoding="flat"`` forces the flat one (``core.genome``).
- Selection: binary tournaments, feasibility first (if either contestant is infeasible the one
  with fewer violations wins, else the smaller objective; ties at random).
- Crossover: simulated binary crossover (SBX, distribution index 15, each gene crossed with
  probability 1/2) applied to a mating pair with probability ``crossover_prob``; otherwise the two
  children copy their parents.
- Mutation: applied to an individual with probability ``mutation_prob`` (the per-individual reading
  common in GA toolkits, e.g. DEAP's ``mutpb``); each gene of a mutated individual changes with
  probability ``gene_mutation_prob`` (default 1/D): polynomial mutation with distribution index
  ``eta_mutation`` (default 5, wider steps than pymoo's 20, which measured better) for continuous
  genes, a uniform random reset for integer genes.
- Repair: genes are clipped to their bounds and integer genes rounded; the genome's decoder makes
  every decision structurally valid, so only valid decisions are scored or returned. The decoded
  decision is not written back into the genes (Baldwinian): e.g. the power gene of a terminal that
  computes locally stays dormant, so switching it back on restores its power (``lamarckian=True``
  writes it back, which measured worse).
- Duplicates: offspring identical to a member of the population or to another offspring are
  dropped and bred again, so every evaluation scores a new gene vector.
- Survival: parents and offspring together, ranked feasibility first (fewest named violations,
  then the objective), the best ``pop_size`` kept. Infeasible individuals are ranked by their
  violation count, then by the raw objective (e.g. the mean latency including missed deadlines,
  capped at ``objective_cap``), which guides the search towards feasibility.
- Initial population: the problem's own random rule (``random_decisions``) when it has one (uniform
  in the decision space otherwise), plus the problem's trivial decision (``local_decision``, e.g.
  all-local) when ``seed_local`` (default on), so the search starts with a feasible member.
- Restarts: a population whose best has not improved by more than 0.01 % for ``restart_after``
  generations (default 15; ``None`` never restarts) is replaced by a fresh initial population; the
  best decision over all runs is returned. On calibrated (3, 10, 4) instances a run converges
  within about 100 generations, and which local optimum it lands in depends on the run, so the
  rest of the budget is better spent on fresh runs than on a converged population.
- Budget: model evaluations, 120,000 by default (300 generations of the paper's 400; the paper
  gives no count). Each generation's offspring is evaluated as one batch through
  ``problem.evaluate``; the last generation is shortened so the budget is never exceeded.

Why own numpy operators rather than pymoo (which this GA used until issue 15): a cProfile of a
120,000-evaluation run at (3, 10, 4) put over 90 % of its time in pymoo's per-individual
``Individual`` and ``Population`` objects (attribute look-ups in mating, tournaments, survival and
duplicate elimination) and in the mating retries that refill dropped duplicates, about 8 per
generation, since with crossover 0.5 and mutation 0.2 some 40 % of children copy a parent; the
model's evaluations were under 10 %. Turning pymoo's duplicate elimination off would have kept the
survival and tournaments' per-individual cost (a quarter of the run) and spent 40 % of the budget
re-scoring known vectors, changing the search. Here every operator of the pymoo GA is a few array
operations over the whole population (``solvers.evolution``): children that are neither crossed
nor mutated (certain copies) are not made, duplicate elimination hashes rows and sorts once, and a
refill pass draws as many pairs as the previous pass's rate of new rows calls for.
benchmarks/bench_ga.py measures the GA's wall time over a plain batched evaluation of the same
number of decisions; ratios and measured gaps to ``reference`` are in docs/satellite-mec-solvers.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.genome import Genome, genome_for
from offloadlab.core.problem import LocalDecision
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.resources import check_batch
from offloadlab.core.result import Result, Tracker
from offloadlab.solvers.common import finish, random_decisions, stack, take
from offloadlab.solvers.evolution import Bounds, Breeder, novel, ranked, repair

DEFAULT_BUDGET = 120_000  # 300 generations of 400; the paper gives no generation count
DEFAULT_RESTART_AFTER = 15  # generations without improvement before a fresh population

PopSize = Annotated[int, Field(ge=2, le=100_000, description="population size (the paper: 400)")]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
EtaMutation = Annotated[float, Field(ge=1.0, le=100.0, description="polynomial mutation distribution index")]
Patience = Annotated[int, Field(ge=1, le=100_000, description="generations without improvement before a restart")]


class _Scorer:
    """Scores gene rows on one instance in one ``problem.evaluate`` call per batch: constraint value
    (number of named violations) and capped raw objective; tracks the budget and the best decision."""

    def __init__(self, problem: Any, instance: Any, genome: Genome, tracker: Tracker):
        self.problem, self.instance, self.genome, self.tracker = problem, instance, genome, tracker
        self.best: dict[str, np.ndarray] | None = None
        self.best_obj = np.inf

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Constraint values and objectives [B] of gene rows [B, D]."""
        decisions = self.genome.decode(X)
        ev = self.problem.evaluate(self.instance, decisions)
        raw = np.asarray(ev.details.get(self.problem.objective_name, ev.objective), dtype=float)
        cap = self.problem.objective_cap
        f = np.nan_to_num(np.minimum(raw, cap), nan=cap, posinf=cap)
        b = int(np.argmin(ev.objective))
        if ev.objective[b] < self.best_obj:
            self.best_obj, self.best = float(ev.objective[b]), take(decisions, b)
        self.tracker.record(len(X), float(ev.objective[b]))
        return ev.violation_counts().astype(float), f


class _Stall:
    """Generations since a run's best (least violation, then objective) last improved by more
    than a relative ``tol``; ``stalled`` once that reaches ``patience`` (never if it is None)."""

    def __init__(self, patience: int | None, tol: float = 1e-4):
        self.patience, self.tol = patience, tol
        self.reset()

    def reset(self) -> None:
        """Start counting for a new run."""
        self.best, self.count = (np.inf, np.inf), 0

    def force(self) -> None:
        """Mark the run as stalled now."""
        self.count = self.patience if self.patience is not None else 0

    @property
    def stalled(self) -> bool:
        """Whether the run has gone ``patience`` generations without improving."""
        return self.patience is not None and self.count >= self.patience

    def update(self, cv: float, objective: float) -> None:
        """Record the run's best after a generation."""
        cv0, f0 = self.best
        better = cv < cv0 or (cv == cv0 and objective < f0 - self.tol * abs(f0))
        self.best, self.count = ((cv, objective), 0) if better else (self.best, self.count + 1)


def initial_population(
    problem: Any, instance: Any, genome: Genome, rng: np.random.Generator, size: int, seed_local: bool
) -> np.ndarray:
    """Initial genes: the problem's random rule (uniform in the decision space without one), plus
    the trivial decision in the first slot when ``seed_local`` is set."""
    X = genome.encode(random_decisions(problem, instance, rng, size))
    if seed_local and isinstance(problem, LocalDecision):
        X[0] = genome.encode(stack([problem.local_decision(instance)]))[0]
    return X


def _survivors(X: np.ndarray, cv: np.ndarray, f: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """The ``n`` best rows, best first (ties keep the earlier row, i.e. the parent)."""
    keep = ranked(cv, f)[:n]
    return X[keep], cv[keep], f[keep]


@register_solver(
    "ga",
    smoke=Smoke(budget=400, options={"pop_size": 20}),
    description="genetic algorithm (numpy; population 400, crossover 0.5, mutation 0.2)",
)
def solve_ga(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    pop_size: PopSize = 400,
    crossover_prob: Annotated[Probability, Field(description="probability that a mating pair is crossed (SBX)")] = 0.5,
    mutation_prob: Annotated[Probability, Field(description="probability that an individual is mutated")] = 0.2,
    gene_mutation_prob: Annotated[
        Probability | None, Field(description="per-gene change probability in a mutated individual (null: 1/genes)")
    ] = None,
    eta_mutation: EtaMutation = 5.0,
    seed_local: Annotated[
        bool, Field(description="seed the first population with the all-local decision (a feasible start)")
    ] = True,
    lamarckian: Annotated[
        bool, Field(description="write decoded decisions back into the genes (off: Baldwinian)")
    ] = False,
    encoding: Annotated[
        str, Field(description="scenario: the scenario's genome if any; flat: the decision vector + repair")
    ] = "scenario",
    restart_after: Patience | None = DEFAULT_RESTART_AFTER,
) -> Result:
    """Run a feasibility-first GA for ``budget`` evaluations (default 120,000); return the best feasible."""
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    genome = genome_for(problem, instance, encoding)
    bounds = Bounds(
        np.asarray(genome.lo, dtype=float), np.asarray(genome.hi, dtype=float), np.asarray(genome.integer, dtype=bool)
    )
    tracker = Tracker(budget)
    score = _Scorer(problem, instance, genome, tracker)
    pop_size = min(int(pop_size), budget)
    check_batch(instance, pop_size, "option pop_size")  # each generation is evaluated as one batch

    def fix(X: np.ndarray) -> np.ndarray:
        X = repair(X, bounds)
        return repair(genome.encode(genome.decode(X)), bounds) if lamarckian else X

    gene_prob = 1.0 / len(bounds.lo) if gene_mutation_prob is None else gene_mutation_prob
    breeder = Breeder(bounds, crossover_prob, mutation_prob, gene_prob, eta_mutation, fix)

    def new_population() -> tuple[np.ndarray, ...]:
        X = fix(initial_population(problem, instance, genome, rng, pop_size, seed_local))
        X = X[novel(X, X[:0])]
        return _survivors(X, *score(X), len(X))

    def restartable() -> bool:
        # a restart needs a whole initial population's worth of budget
        return stall.stalled and budget - tracker.evaluations >= pop_size

    stall = _Stall(restart_after)
    (X, cv, f), runs, generations = new_population(), 1, 1
    stall.update(float(cv[0]), float(f[0]))
    while not tracker.exhausted:
        if restartable():
            (X, cv, f), runs, generations = new_population(), runs + 1, generations + 1
            stall.reset()
            stall.update(float(cv[0]), float(f[0]))
            continue
        children = breeder.offspring(X, cv, f, min(pop_size, budget - tracker.evaluations), rng)
        if len(children) == 0:  # duplicates left nothing new to try
            stall.force()
            if restartable():
                continue
            break
        child_cv, child_f = score(children)
        generations += 1
        X, cv, f = _survivors(
            np.concatenate([X, children]), np.concatenate([cv, child_cv]), np.concatenate([f, child_f]), pop_size
        )
        stall.update(float(cv[0]), float(f[0]))
    best = score.best
    if best is None:  # nothing feasible: the least infeasible survivor
        best = take(genome.decode(X[:1]), 0)
    return finish(problem, instance, best, tracker, generations=generations, pop_size=pop_size, runs=runs)
