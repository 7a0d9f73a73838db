"""Genetic algorithm (GA) on a scenario's genome, built on pymoo.

Paper settings (seed 000, Sec. IV) are the defaults: population 400, crossover probability 0.5,
mutation probability 0.2. Choices the paper leaves open, made here:

- Encoding: the scenario's own genome when it offers one (``problem.genome``; for satellite-mec one
  option gene per terminal, "local or which satellite and sub-channel", plus one power gene, see
  ``scenarios.satellite_mec.genome``), otherwise the DecisionSpace's flat vector followed by
  ``problem.repair``; ``encoding="flat"`` forces the flat one (``core.genome``).
- Crossover: simulated binary crossover (SBX, pymoo defaults) applied to a mating pair with
  probability ``crossover_prob``.
- Mutation: applied to an individual with probability ``mutation_prob`` (the per-individual reading
  common in GA toolkits, e.g. DEAP's ``mutpb``); each gene of a mutated individual changes with
  probability ``gene_mutation_prob`` (default 1/D): polynomial mutation with distribution index
  ``eta_mutation`` (default 5, wider steps than pymoo's 20, which measured better) for continuous
  genes, a uniform random reset for integer genes.
- Repair: the pymoo Repair clips genes to their bounds and rounds integer genes; the genome's
  decoder makes every decision structurally valid, so only valid decisions are scored or returned.
  The decoded decision is not written back into the genes (Baldwinian): e.g. the power gene of a
  terminal that computes locally stays dormant, so switching it back on restores its power
  (``lamarckian=True`` writes it back, which measured worse).
- Constraints: pymoo's constraint handling (feasibility first). The constraint value is the number
  of named violations the model reports; infeasible individuals are ranked by it, then by the raw
  objective (e.g. the mean latency including missed deadlines, capped at 1e6 s), which guides the
  search towards feasibility. Feasible individuals are ranked by the objective alone.
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
  Offspring identical to a member of the population are dropped before evaluation.
  Measured gaps to ``reference`` are in docs/satellite-mec-solvers.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pymoo.algorithms.soo.nonconvex.ga import GA
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.repair import Repair
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM

from offloadlab.core.problem import LocalDecision
from offloadlab.core.genome import Genome, genome_for
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.core.space import check_number
from offloadlab.solvers.common import finish, random_decisions, stack, take

DEFAULT_BUDGET = 120_000  # 300 generations of 400; the paper gives no generation count
DEFAULT_RESTART_AFTER = 15  # generations without improvement before a fresh population


class _DecisionRepair(Repair):
    """Clip to bounds and round integer genes; with ``lamarckian``, write the decoded (repaired)
    decision back into the genes as well."""

    def __init__(self, genome: Genome, lamarckian: bool):
        super().__init__()
        self.genome, self.lamarckian = genome, lamarckian

    def _do(self, pm_problem: Any, X: np.ndarray, **kwargs: Any) -> np.ndarray:
        g = self.genome
        X = np.clip(np.asarray(X, dtype=float), g.lo, g.hi)
        X[:, g.integer] = np.round(X[:, g.integer])
        return g.encode(g.decode(X)) if self.lamarckian else X


class _MixedMutation(PM):
    """Polynomial mutation on continuous genes, uniform random reset on integer genes."""

    def __init__(self, genome: Genome, **kwargs: Any):
        super().__init__(**kwargs)
        self.genome = genome

    def _do(self, problem: Any, X: np.ndarray, *args: Any, random_state: Any = None, **kwargs: Any) -> np.ndarray:
        Y = super()._do(problem, X, *args, random_state=random_state, **kwargs)
        integer = self.genome.integer
        p = self.get_prob_var(problem, size=len(X))[:, None]
        reset = (random_state.random(X.shape) < p) & integer
        lo, hi = self.genome.lo, self.genome.hi
        draw = np.floor(lo + random_state.random(X.shape) * (hi - lo + 1))
        return np.where(integer, np.where(reset, np.minimum(draw, hi), X), Y)


class _ExactDuplicates(DuplicateElimination):
    """Drop offspring identical to another offspring or to a current member (hashing the vectors;
    pymoo's default pairwise-distance check costs more than the model evaluation here)."""

    def _do(self, pop: Any, other: Any, is_duplicate: np.ndarray) -> np.ndarray:
        seen = set() if other is None else {x.tobytes() for x in other.get("X")}
        for i, x in enumerate(pop.get("X")):
            key = x.tobytes()
            is_duplicate[i] = key in seen
            seen.add(key)
        return is_duplicate


class _BatchProblem(PymooProblem):
    """pymoo view of one instance: one ``problem.evaluate`` call per population, tracked."""

    def __init__(self, problem: Any, instance: Any, genome: Genome, tracker: Tracker):
        super().__init__(n_var=len(genome.lo), n_obj=1, n_ieq_constr=1, xl=genome.lo, xu=genome.hi)
        self.problem, self.instance, self.genome, self.tracker = problem, instance, genome, tracker
        self.best: dict[str, np.ndarray] | None = None
        self.best_obj = np.inf

    def _evaluate(self, X: np.ndarray, out: dict, *args: Any, **kwargs: Any) -> None:
        decisions = self.genome.decode(X)
        ev = self.problem.evaluate(self.instance, decisions)
        raw = np.asarray(ev.details.get(self.problem.objective_name, ev.objective), dtype=float)
        cap = self.problem.objective_cap
        out["F"] = np.nan_to_num(np.minimum(raw, cap), nan=cap, posinf=cap)[:, None]
        out["G"] = ev.violation_counts().astype(float)[:, None]
        b = int(np.argmin(ev.objective))
        if ev.objective[b] < self.best_obj:
            self.best_obj, self.best = float(ev.objective[b]), take(decisions, b)
        self.tracker.record(len(X), float(ev.objective[b]))


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


def initial_population(problem: Any, instance: Any, genome: Genome, rng: np.random.Generator, size: int,
                       seed_local: bool) -> np.ndarray:
    """Initial genes: the problem's random rule (uniform in the decision space without one), plus
    the trivial decision in the first slot when ``seed_local`` is set."""
    X = genome.encode(random_decisions(problem, instance, rng, size))
    if seed_local and isinstance(problem, LocalDecision):
        X[0] = genome.encode(stack([problem.local_decision(instance)]))[0]
    return X


@register_solver("ga", smoke=Smoke(budget=400, options={"pop_size": 20}), description="genetic algorithm (pymoo; population 400, crossover 0.5, mutation 0.2)")
def solve_ga(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator,
             pop_size: int = 400, crossover_prob: float = 0.5, mutation_prob: float = 0.2,
             gene_mutation_prob: float | None = None, eta_mutation: float = 5.0,
             seed_local: bool = True, lamarckian: bool = False, encoding: str = "scenario",
             restart_after: int | None = DEFAULT_RESTART_AFTER) -> Result:
    """Run a feasibility-first GA for ``budget`` evaluations (default 120,000); return the best feasible."""
    budget = DEFAULT_BUDGET if budget is None else int(budget)
    check_number(pop_size, "option pop_size", low=2)
    check_number(crossover_prob, "option crossover_prob", low=0, high=1)
    check_number(mutation_prob, "option mutation_prob", low=0, high=1)
    check_number(eta_mutation, "option eta_mutation", low=1, high=100)
    if gene_mutation_prob is not None:
        check_number(gene_mutation_prob, "option gene_mutation_prob", low=0, high=1)
    if restart_after is not None:
        check_number(restart_after, "option restart_after", low=1)
    genome = genome_for(problem, instance, encoding)
    tracker = Tracker(budget)
    pm_problem = _BatchProblem(problem, instance, genome, tracker)
    pop_size = min(int(pop_size), budget)

    def new_run() -> GA:
        algorithm = GA(
            pop_size=pop_size,
            sampling=initial_population(problem, instance, genome, rng, pop_size, seed_local),
            crossover=SBX(prob=crossover_prob),
            mutation=_MixedMutation(genome, prob=mutation_prob, prob_var=gene_mutation_prob, eta=eta_mutation),
            repair=_DecisionRepair(genome, lamarckian),
            eliminate_duplicates=_ExactDuplicates(),
            seed=int(rng.integers(2**31 - 1)),
        )
        algorithm.setup(pm_problem, termination=("n_eval", budget), verbose=False)
        return algorithm

    def restartable() -> bool:
        # a restart needs a whole initial population's worth of budget
        return stall.stalled and tracker.remaining >= pop_size

    algorithm, runs, generations = new_run(), 1, 0
    stall = _Stall(restart_after)
    while not tracker.exhausted:
        if restartable():
            algorithm, runs = new_run(), runs + 1
            stall.reset()
        algorithm.n_offsprings = min(pop_size, tracker.remaining)
        infills = algorithm.ask()
        if infills is None or len(infills) == 0:  # duplicates left nothing new to try
            stall.force()
            if restartable():
                continue
            break
        algorithm.evaluator.eval(pm_problem, infills, algorithm=algorithm)
        algorithm.tell(infills=infills)
        generations += 1
        stall.update(float(algorithm.opt[0].CV[0]), float(algorithm.opt[0].F[0]))
    best = pm_problem.best
    if best is None:  # nothing feasible: the least infeasible survivor
        best = take(genome.decode(algorithm.pop.get("X")[:1]), 0)
    return finish(problem, instance, best, tracker, generations=generations, pop_size=pop_size, runs=runs)
