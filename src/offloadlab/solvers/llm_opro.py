"""The LLM optimizer of seed 000 (Algorithm 1): an LLM proposes decisions from a meta-prompt holding
an example pool of the best decisions so far; each proposal is validated, scored by the problem's own
evaluate (for satellite-mec: with the eq. 14 CPU split) and the pool and next prompt updated.

It uses only the Problem protocol (describe, random_decisions, repair, evaluate) plus prompt templates,
so it is registered for every scenario that has templates under llm/prompts/.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from offloadlab.core.config import StrictModel, parse_model
from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.llm import Backend, LLMClient, LLMError, Reply, Request, TokenBudgetExhausted, make_backend
from offloadlab.llm.structured import (Checked, InvalidAnswer, answer_max_tokens, answer_schema, check_answer,
                                       decision_json, parse_json, quantise)
from offloadlab.llm.templates import PromptBook, wordings
from offloadlab.solvers.common import finish, stack, take

SAMPLE_BATCH = 100
MAX_SAMPLE_BATCHES = 100  # at most 10,000 random draws to find the initial feasible decisions


class Settings(StrictModel):
    """The optimizer's numeric options, validated with errors that name the option."""

    temperature: float = Field(1.0, ge=0.0, le=2.0)
    iterations: int = Field(50, ge=1, le=100_000)
    patience: int = Field(10, ge=1, le=100_000)
    pool_size: int = Field(3, ge=1, le=50)
    answer_retries: int = Field(2, ge=0, le=10)
    initial_samples: int = Field(100, ge=1, le=100_000)
    structured: bool = True
    llm_timeout: float = Field(120.0, gt=0.0)
    llm_retries: int = Field(4, ge=0, le=20)
    llm_backoff: float = Field(1.0, ge=0.0, le=60.0)
    llm_token_budget: int | None = Field(None, ge=1)


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
    def best(self) -> Example:
        """The best example."""
        return self.items[-1]

    def add(self, example: Example) -> None:
        """Insert, keeping the ``size`` best."""
        self.items = sorted([*self.items, example], key=lambda e: -e.objective)[-self.size:]

    def holds(self, decision: dict[str, np.ndarray]) -> bool:
        """Whether the pool already holds this exact decision."""
        return any(all(np.array_equal(e.decision[k], decision[k]) for k in decision) for e in self.items)


class Optimizer:
    """One run of Algorithm 1."""

    def __init__(self, problem: Any, instance: Any, client: LLMClient, book: PromptBook, settings: Settings,
                 rng: np.random.Generator, tracker: Tracker):
        self.problem, self.instance, self.client, self.book = problem, instance, client, book
        self.s, self.rng, self.tracker = settings, rng, tracker
        self.space = problem.decision_space(instance)
        self.schema = answer_schema(self.space)
        self.max_tokens = answer_max_tokens(self.space)
        self.facts = problem.describe(instance)
        self.pool = ExamplePool(settings.pool_size)
        self.invalid: Counter = Counter()
        self.repaired = self.retried = self.improvements = 0
        self.trajectory: list[dict[str, Any]] = []

    def evaluate(self, decisions: dict[str, np.ndarray]) -> np.ndarray:
        """Objectives of a batch of well-formed decisions, counted on the tracker."""
        ev = self.problem.evaluate(self.instance, decisions)
        self.tracker.record(len(ev.objective), float(np.min(ev.objective)))
        return ev.objective

    def example(self, decision: dict[str, np.ndarray], objective: float) -> Example:
        """A pool entry."""
        return Example(decision, objective, decision_json(self.space, decision))

    def initialise(self) -> None:
        """Line 1: the pool starts with the best of ``initial_samples`` random feasible decisions."""
        found: list[tuple[float, dict[str, np.ndarray]]] = []
        for _ in range(MAX_SAMPLE_BATCHES):
            batch = quantise(self.space, self.problem.random_decisions(self.instance, self.rng, SAMPLE_BATCH))
            obj = self.evaluate(batch)
            found += [(float(obj[b]), take(batch, b)) for b in np.flatnonzero(np.isfinite(obj))]
            if len(found) >= self.s.initial_samples:
                break
        found = found[: self.s.initial_samples]
        if not found and hasattr(self.problem, "local_decision"):
            local = self.problem.local_decision(self.instance)
            found = [(float(self.evaluate(stack([local]))[0]), local)]
        if found:
            obj, decision = min(found, key=lambda t: t[0])
            self.pool.add(self.example(decision, obj))
        else:  # nothing feasible: the pool starts with an infeasible decision of objective +inf
            self.pool.add(self.example(take(batch, 0), math.inf))

    def messages(self, role: str, last_objective: float | None) -> tuple[dict[str, str], ...]:
        """The meta-prompt: the initial prompt with the pool, followed by the expert or reminder prompt."""
        context = {**self.facts, "examples": [{"json": e.text, "objective": e.objective} for e in self.pool.items],
                   "last_objective": last_objective, "best_objective": self.pool.best.objective}
        text = self.book.render("task", **context)
        if role != "task":
            text += "\n\n" + self.book.render(role, **context)
        return ({"role": "user", "content": text},)

    def ask(self, messages: tuple[dict[str, str], ...], schema: dict | None, purpose: str) -> Reply:
        """One LLM call with a fresh seed drawn from the run's generator."""
        seed = int(self.rng.integers(2**31 - 1))
        return self.client.complete(Request(messages, self.s.temperature, self.max_tokens, schema, seed, purpose))

    def parse(self, text: str) -> Any:
        """The answer's JSON; without structured output, the extraction prompts pull out each field."""
        if self.s.structured:
            return parse_json(text)
        try:
            obj = parse_json(text)
            if isinstance(obj, dict) and all(f.name in obj for f in self.space.fields):
                return obj
        except InvalidAnswer:
            pass
        out = {}
        for f in self.space.fields:
            prompt = self.book.render_common("extract", field=f, text=text)
            reply = self.ask(({"role": "user", "content": prompt},), answer_schema(self.space, [f.name]), "extract")
            part = parse_json(reply.text)
            out[f.name] = part.get(f.name) if isinstance(part, dict) else None
        return out

    def propose(self, messages: tuple[dict[str, str], ...]) -> Checked | None:
        """Line 5: query and extract; an unusable answer is retried with its error, never evaluated."""
        conversation = messages
        for attempt in range(self.s.answer_retries + 1):
            if attempt:
                self.retried += 1
            reply = self.ask(conversation, self.schema if self.s.structured else None,
                             "retry" if attempt else "generate")
            try:
                checked = check_answer(self.problem, self.instance, self.space, self.parse(reply.text))
            except InvalidAnswer as exc:
                self.invalid[exc.kind] += 1
                feedback = self.book.render_common("retry", error=str(exc), fields=self.space.fields,
                                                   constraints=self.space.constraints)
                conversation = (*messages, {"role": "assistant", "content": reply.text},
                                {"role": "user", "content": feedback})
                continue
            self.repaired += bool(checked.repairs)
            return checked
        return None

    def run(self) -> str:
        """Lines 2-25; returns why the loop stopped."""
        role, last, stale = "task", None, 0
        for it in range(1, self.s.iterations + 1):
            if self.tracker.exhausted:
                return "budget"
            calls = self.client.usage.calls
            try:
                checked = self.propose(self.messages(role, last))
            except TokenBudgetExhausted:
                return "token_budget"
            except LLMError as exc:
                if self.client.usage.calls == 0:
                    raise  # nothing ever answered: a configuration error, reported as such
                return f"llm_error: {exc}"
            obj = math.inf if checked is None else float(self.evaluate(
                {k: v[None] for k, v in checked.decision.items()})[0])
            used = role
            if obj < self.pool.best.objective:
                self.pool.add(self.example(checked.decision, obj))
                self.improvements += 1
                role, stale = "task", 0
            else:
                repeated = checked is not None and self.pool.holds(checked.decision)
                role, stale = ("reminder" if repeated else "expert"), stale + 1
            last = None if checked is None else obj
            outcome = "invalid" if checked is None else ("repaired" if checked.repairs else "valid")
            self.trajectory.append({"iteration": it, "prompt": used, "outcome": outcome,
                                    "objective": obj, "best": self.pool.best.objective,
                                    "llm_calls": self.client.usage.calls - calls})
            if stale >= self.s.patience:
                return "patience"
        return "iterations"


def solve_llm(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator,
              llm_backend: str | None = None, llm_model: str | None = None, llm_base_url: str | None = None,
              llm_api_key_env: str = "OPENAI_API_KEY", llm_record: str | None = None, llm_replay: str | None = None,
              llm_threads: int | None = None, llm_timeout: float = 120.0, llm_retries: int = 4,
              llm_backoff: float = 1.0, llm_token_budget: int | None = None, temperature: float = 1.0,
              iterations: int = 50, patience: int = 10, prompt: str = "expert", pool_size: int = 3,
              answer_retries: int = 2, initial_samples: int = 100, structured: bool = True) -> Result:
    """LLM optimizer (Algorithm 1 of seed 000) on any backend; see docs/llm.md."""
    settings = parse_model(Settings, {
        "temperature": temperature, "iterations": iterations, "patience": patience, "pool_size": pool_size,
        "answer_retries": answer_retries, "initial_samples": initial_samples, "structured": structured,
        "llm_timeout": llm_timeout, "llm_retries": llm_retries, "llm_backoff": llm_backoff,
        "llm_token_budget": llm_token_budget}, "option")
    book = PromptBook(problem.manifest.prompt_dir, prompt)
    backend = make_backend(llm_backend, model=llm_model, base_url=llm_base_url, api_key_env=llm_api_key_env,
                           threads=llm_threads, record=llm_record, replay=llm_replay)
    return optimize(problem, instance, budget, rng, backend, book, settings)


def optimize(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator, backend: Backend,
             book: PromptBook, settings: Settings) -> Result:
    """Run Algorithm 1 with a given backend and package the result with the LLM accounting."""
    tracker = Tracker(budget)

    def account(reply: Reply) -> None:
        tracker.llm_calls += 1
        tracker.llm_tokens += reply.prompt_tokens + reply.completion_tokens
        tracker.record(0, tracker.best)  # one history point per call: its tokens and latency on the axis

    client = LLMClient(backend, timeout_s=settings.llm_timeout, max_retries=settings.llm_retries,
                       backoff_s=settings.llm_backoff, token_budget=settings.llm_token_budget, on_call=account)
    opt = Optimizer(problem, instance, client, book, settings, rng, tracker)
    opt.initialise()
    initial = opt.pool.best.objective
    stop = opt.run()
    result = finish(problem, instance, opt.pool.best.decision, tracker, **client.usage.stats(),
                    invalid_outputs=sum(opt.invalid.values()), invalid_by_kind=dict(sorted(opt.invalid.items())),
                    repaired=opt.repaired, retried=opt.retried, iterations=len(opt.trajectory),
                    improvements=opt.improvements, initial_objective=initial, stop_reason=stop,
                    backend=backend.name, model=backend.model)
    result.details["trajectory"] = opt.trajectory
    return result

register_solver("llm", description="LLM optimizer (seed 000, Algorithm 1): example pool, expert/reminder prompts, "
                                   "validated JSON; --llm-backend embedded|openai|replay",
                budget_unit="evaluations", applies=lambda problem: bool(wordings(problem.manifest.prompt_dir)))(solve_llm)
