"""The LLM optimizer of seed 000 (Algorithm 1): an LLM proposes decisions from a meta-prompt holding
an example pool of the best decisions so far; each proposal is validated, scored by the problem's own
evaluate (for satellite-mec: with the eq. 14 CPU split) and the pool and next prompt updated.

It uses only the Problem protocol (describe, random_decisions, local_decision, repair, evaluate) plus the
scenario's prompt folder (templates and answer format), so it is registered for every scenario that has one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.problem import Describable, LocalDecision, Problem, RandomDecisions
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.llm import Backend, LLMError, LLMOptions, Reply, TokenBudgetExhausted, llm_method, make_client
from offloadlab.llm.formats import AnswerFormat
from offloadlab.llm.loop import AnswerLoop
from offloadlab.llm.structured import Checked
from offloadlab.llm.templates import PromptBook, wordings
from offloadlab.solvers.common import finish, stack, take

# Largest decision (numbers) the LLM optimizer takes: an answer is written as text, about 4 tokens a
# number, so 2,048 numbers already fill the 8,192-token context of the embedded model (SmolLM2).
LLM_MAX_NUMBERS = 2048

Iterations = Annotated[int, Field(ge=1, le=100_000, description="prompts sent (each with its re-asks)")]
Patience = Annotated[int, Field(ge=1, le=100_000, description="stop after this many prompts without improvement")]
PoolSize = Annotated[int, Field(ge=1, le=50, description="examples shown in the prompt")]
InitialSamples = Annotated[int, Field(ge=1, le=100_000, description="random draws the pool starts from")]
PoolStart = Annotated[
    Literal["default", "paper"],
    Field(description="paper: best of the random draws only; default: also all-local"),
]
Wording = Annotated[str, Field(min_length=1, description="prompt wording: a folder of the scenario's prompts")]


class Settings(StrictModel):
    """The optimizer's own options, validated with errors that name the option."""

    iterations: Iterations = 50
    patience: Patience = 10
    pool_size: PoolSize = 3
    initial_samples: InitialSamples = 100
    pool_start: PoolStart = "default"


@dataclass
class Example:
    """A decision in the example pool with its objective and the text the model sees."""

    decision: dict[str, np.ndarray]
    objective: float
    text: str


class ExamplePool:
    """The best ``size`` decisions so far, sorted from worst to best (the best is shown last)."""

    def __init__(self, size: int):
        self.size = size
        self.items: list[Example] = []

    @property
    def best_objective(self) -> float:
        """The best objective, +inf while the pool is empty."""
        return self.items[-1].objective if self.items else math.inf

    def add(self, example: Example) -> None:
        """Insert, keeping the ``size`` best."""
        self.items = sorted([*self.items, example], key=lambda e: -e.objective)[-self.size :]

    def holds(self, decision: dict[str, np.ndarray]) -> bool:
        """Whether the pool already holds this exact decision."""
        return any(all(np.array_equal(e.decision[k], decision[k]) for k in decision) for e in self.items)


class Optimizer:
    """One run of Algorithm 1."""

    def __init__(
        self,
        problem: Problem,
        instance: Any,
        loop: AnswerLoop,
        book: PromptBook,
        settings: Settings,
        rng: np.random.Generator,
        tracker: Tracker,
    ):
        self.problem, self.instance, self.loop, self.book = problem, instance, loop, book
        self.s, self.rng, self.tracker = settings, rng, tracker
        self.space = problem.decision_space(instance)
        self.fmt: AnswerFormat = loop.fmt
        self.facts = problem.describe(instance) if isinstance(problem, Describable) else {}
        self.pool = ExamplePool(settings.pool_size)
        self.improvements = self.startup_evaluations = self.initial_feasible = 0
        self.fallback: dict[str, np.ndarray] | None = None  # the final decision while nothing feasible is known
        self.trajectory: list[dict[str, Any]] = []

    def example(self, decision: dict[str, np.ndarray], objective: float) -> Example:
        """A pool entry."""
        return Example(decision, objective, self.fmt.text(decision))

    def initialise(self) -> None:
        """Line 1: the pool starts with the best of ``initial_samples`` random draws (the paper: 100), and
        by default also with all-local, so that the run never ends worse than the trivial baseline.
        These start-up evaluations are counted apart from the LLM's."""
        starts: list[dict[str, np.ndarray]] = []
        if isinstance(self.problem, RandomDecisions):
            draws = self.fmt.quantise(self.problem.random_decisions(self.instance, self.rng, self.s.initial_samples))
            starts += [take(draws, b) for b in range(self.s.initial_samples)]
        if self.s.pool_start == "default" and isinstance(self.problem, LocalDecision):
            starts.append(self.problem.local_decision(self.instance))
        if not starts:
            return
        ev = self.problem.evaluate(self.instance, stack(starts))
        self.startup_evaluations = len(starts)
        ok = np.flatnonzero(np.isfinite(ev.objective))
        self.initial_feasible = len(ok)
        self.fallback = starts[int(np.argmin(ev.violation_counts()))]
        if len(ok):
            best = int(ok[np.argmin(ev.objective[ok])])
            self.pool.add(self.example(starts[best], float(ev.objective[best])))
        if self.s.pool_start == "default" and isinstance(self.problem, LocalDecision) and np.isfinite(ev.objective[-1]):
            if not self.pool.holds(starts[-1]):
                self.pool.add(self.example(starts[-1], float(ev.objective[-1])))
        self.tracker.record(0, self.pool.best_objective)

    def prompt(self, role: str, last_objective: float | None, feedback: str | None) -> str:
        """The meta-prompt: the task with the pool (at the end, so the fixed prefix stays in the model's
        cache), followed by the expert or reminder prompt."""
        context = {
            **self.facts,
            "examples": [{"json": e.text, "objective": e.objective} for e in self.pool.items],
            "last_objective": last_objective,
            "best_objective": self.pool.best_objective,
            "feedback": feedback,
        }
        text = self.book.render("task", **context)
        return text if role == "task" else text + "\n\n" + self.book.render(role, **context)

    def feedback(self, ev: Any, b: int) -> str | None:
        """What was wrong with an infeasible proposal, in the scenario's words (its feedback template)."""
        if ev.feasible[b]:
            return None
        report = ev.report(b)
        if self.book.has("feedback"):
            return self.book.render("feedback", **self.facts, **report)
        return "it breaks: " + ", ".join(report["violations"])

    def step(self, found: list[Checked]) -> tuple[str, float | None, str | None, str]:
        """Evaluate one prompt's proposals and update the pool: (next role, last objective, feedback, outcome)."""
        if not found:
            return "expert", None, None, "invalid"
        # the proposals lie on the format's grid (check_answer): the pool shows exactly what was evaluated
        batch = stack([c.decision for c in found])
        ev = self.problem.evaluate(self.instance, batch)
        self.tracker.record(len(found), float(np.min(ev.objective)))
        improved, repeated = False, True
        for b in range(len(found)):
            obj, decision = float(ev.objective[b]), take(batch, b)
            repeated &= self.pool.holds(decision)
            if np.isfinite(obj) and not self.pool.holds(decision):
                improved |= obj < self.pool.best_objective
                self.pool.add(self.example(decision, obj))
        b = int(np.argmin(ev.objective)) if np.isfinite(ev.objective).any() else 0
        self.fallback = self.fallback if self.fallback is not None else take(batch, b)
        outcome = "repaired" if found[b].repairs else "valid"
        self.improvements += improved
        role = "task" if improved else ("reminder" if repeated else "expert")
        last = float(ev.objective[b]) if np.isfinite(ev.objective[b]) else None
        return role, last, self.feedback(ev, b), outcome

    def run(self) -> str:
        """Lines 2-25; returns why the loop stopped."""
        role, last, feedback, stale = "task", None, None, 0
        usage = self.loop.client.usage
        for it in range(1, self.s.iterations + 1):
            if self.tracker.exhausted:
                return "budget"
            calls = usage.calls
            try:
                found = self.loop.ask(self.prompt(role, last, feedback))
            except TokenBudgetExhausted:
                return "token_budget"
            except LLMError as exc:
                if self.loop.usable == 0:
                    raise  # nothing usable ever came back: a failure, reported as such
                return f"llm_error: {exc}"
            used, best_before = role, self.pool.best_objective
            role, last, feedback, outcome = self.step(found)
            stale = 0 if self.pool.best_objective < best_before else stale + 1
            self.trajectory.append(
                {
                    "iteration": it,
                    "prompt": used,
                    "outcome": outcome,
                    "proposals": len(found),
                    "objective": math.inf if last is None else last,
                    "best": self.pool.best_objective,
                    "llm_calls": usage.calls - calls,
                }
            )
            if stale >= self.s.patience:
                return "patience"
        return "iterations"


@llm_method()
def solve_llm(
    problem: Problem,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    *,
    llm: LLMOptions,
    iterations: Iterations = 50,
    patience: Patience = 10,
    prompt: Wording = "expert",
    pool_size: PoolSize = 3,
    initial_samples: InitialSamples = 100,
    pool_start: PoolStart = "default",
) -> Result:
    """LLM optimizer (Algorithm 1 of seed 000) on any backend; see docs/llm.md."""
    settings = parse_model(
        Settings,
        {
            "iterations": iterations,
            "patience": patience,
            "pool_size": pool_size,
            "initial_samples": initial_samples,
            "pool_start": pool_start,
        },
        "option",
    )
    book = PromptBook(problem.manifest.prompt_dir, prompt)
    return optimize(problem, instance, budget, rng, None, book, settings, llm)


def optimize(
    problem: Problem,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    backend: Backend | None,
    book: PromptBook,
    settings: Settings,
    llm: LLMOptions,
    bind: Callable[[Optimizer], None] | None = None,
) -> Result:
    """Run Algorithm 1 (``backend`` default: the options') and package the result with the LLM accounting;
    ``bind`` is given the optimizer once its pool is filled (a proposer that reads the pool directly).
    A run in which no LLM answer was usable raises LLMError: it has no result of its own to report."""
    size = problem.decision_space(instance).flat_size
    if size > LLM_MAX_NUMBERS:
        raise InputError(
            "solver",
            f"llm takes decisions of at most {LLM_MAX_NUMBERS} numbers (an answer must fit a model's context); "
            f"this instance's has {size}",
        )
    tracker = Tracker(budget)

    def account(reply: Reply) -> None:
        tracker.llm_calls += 1
        tracker.llm_tokens += reply.prompt_tokens + reply.completion_tokens
        tracker.record(0, tracker.best)  # one history point per call: its tokens and latency on the axis

    client = make_client(llm, backend, on_call=account)
    loop = AnswerLoop(client, llm, problem, instance, book.answer_format(problem.decision_space(instance)), rng)
    opt = Optimizer(problem, instance, loop, book, settings, rng, tracker)
    opt.initialise()
    if bind is not None:
        bind(opt)
    initial = opt.pool.best_objective
    stop = opt.run()
    if loop.usable == 0:
        raise LLMError(
            f"llm ({client.backend.name})",
            f"no usable answer in {client.usage.calls} calls "
            f"(invalid: {loop.stats()['invalid_by_kind']}; stop: {stop})",
        )
    decision = opt.pool.items[-1].decision if opt.pool.items else opt.fallback
    assert decision is not None  # a usable answer exists, so start-up or pool gave a decision
    result = finish(
        problem,
        instance,
        decision,
        tracker,
        **client.usage.stats(),
        **loop.stats(),
        iterations=len(opt.trajectory),
        improvements=opt.improvements,
        initial_objective=initial,
        startup_evaluations=opt.startup_evaluations,
        initial_feasible=opt.initial_feasible,
        proposed_evaluations=tracker.evaluations,
        stop_reason=stop,
        backend=client.backend.name,
        model=client.backend.model,
    )
    result.details["trajectory"] = opt.trajectory
    return result


register_solver(
    "llm",
    description="LLM optimizer (seed 000, Algorithm 1): example pool, expert/reminder prompts, "
    "validated JSON; --llm-backend embedded|openai|replay",
    budget_unit="evaluations",
    smoke=Smoke(options={"iterations": 2}, slow=True),
    applies=lambda problem: bool(wordings(problem.manifest.prompt_dir)),
)(solve_llm)
