"""LLM in-context learning (Section IV-B): the twin asks an LLM for each slot's decision, showing it the
cases nearest to the current state from a case set collected with the trained MARL policy.

Per slot: retrieve the ``neighbours`` nearest cases (Euclidean distance between normalised states),
prompt with the paper's task description, the cases and the current state, constrain the answer to the
decision space's JSON Schema (where the backend supports it), then parse and validate it; the server
scales an over-booked allocation to its capacity (counted as a repair). An answer that cannot be used
falls back to the MARL action for that state, and is counted. As in the paper, every decided slot is
added to the case set as a new example (``grow_cases``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result
from offloadlab.llm import LLMClient, LLMError, Request, TokenBudgetExhausted, make_backend
from offloadlab.llm.templates import PromptBook
from offloadlab.llm.structured import InvalidAnswer, answer_max_tokens, answer_schema, check_answer, parse_json
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM
from offloadlab.scenarios.dt_vehicular.env import agent_observation
from offloadlab.methods.dt_vehicular.marl import HIDDEN, maddpg_policy, trained_agents
from offloadlab.scenarios.dt_vehicular.model import (SCENARIO_ID, Episode, SlotState, generate_episode, run_policy,
                                                     slot_costs)
from offloadlab.methods.dt_vehicular.results import Policy, run_and_report

BOOK = PromptBook(PROBLEM.manifest.prompt_dir)


@dataclass
class Case:
    """One solved slot: its normalised state (for retrieval), its text, and the decision with its P2."""

    key: np.ndarray
    state: str
    queues: str
    action: str
    p2: str


def state_text(state: SlotState, episode: Episode) -> tuple[str, str]:
    """The state matrix and backlogs as the model reads them (kB, m, m/s, dB)."""
    snr_db = state.features[:, -1] * 50.0  # the feature is SNR in dB / 50
    rows = np.concatenate([state.task_bytes / 1000.0, episode.position_m[state.t][:, None],
                           episode.speed_mps[:, None], snr_db[:, None]], axis=1)
    return json.dumps(np.round(rows, 1).tolist()), json.dumps(np.round(state.queue / 1000.0, 1).tolist())


def action_text(omega: np.ndarray, alpha: np.ndarray) -> str:
    """A decision in the answer format."""
    return json.dumps({"omega": np.round(omega, 3).tolist(), "alpha": np.round(alpha, 4).tolist()},
                      separators=(",", ":"))


def make_case(state: SlotState, episode: Episode, omega: np.ndarray, alpha: np.ndarray) -> Case:
    """A case from a state and the (projected) decision taken there."""
    p = episode.params
    c = slot_costs(p, state.rate_bps, state.task_bytes, state.queue, omega[None], alpha[None])
    st, qu = state_text(state, episode)
    return Case(agent_observation(state).ravel(), st, qu, action_text(omega, alpha), f"{float(c.p2[0]):.4g}")


def collect_cases(params: Any, policy: Policy, rng: np.random.Generator, episodes: int) -> list[Case]:
    """Run the MARL policy on fresh seeded episodes and keep every slot as a case."""
    cases: list[Case] = []
    for _ in range(episodes):
        ep = generate_episode(params, int(rng.integers(2**31 - 1)))
        states: list[SlotState] = []

        def recording(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
            states.append(state)
            return policy(state)

        sim = run_policy(ep, recording)
        cases += [make_case(s, ep, w, a) for s, w, a in zip(states, sim.omegas, sim.alphas)]
    return cases


class IclPolicy:
    """The per-slot LLM decision with retrieval, validation, fallback and accounting."""

    def __init__(self, problem: Any, instance: Episode, client: LLMClient, cases: list[Case], fallback: Policy,
                 rng: np.random.Generator, neighbours: int, temperature: float, grow_cases: bool):
        self.problem, self.instance, self.client = problem, instance, client
        self.cases, self.fallback, self.rng = cases, fallback, rng
        self.neighbours, self.temperature, self.grow = neighbours, temperature, grow_cases
        self.space = problem.decision_space(instance)
        self.schema = answer_schema(self.space)
        self.max_tokens = answer_max_tokens(self.space)
        p = instance.params
        self.capacity_rule = ("shared: sum of all alpha times (1 + bias) must be at most 1, with bias "
                              f"{p.delta_f:g}" if p.capacity_basis == "real" else "shared: sum of all alpha at most 1")
        self.invalid: Counter = Counter()
        self.fallbacks = self.repaired = 0
        self.stopped = ""

    def nearest(self, key: np.ndarray) -> list[Case]:
        """The ``neighbours`` cases closest to ``key``, farthest first (the nearest sits next to the question)."""
        dist = np.array([np.linalg.norm(c.key - key) for c in self.cases])
        return [self.cases[i] for i in np.argsort(dist)[: self.neighbours][::-1]]

    def prompt(self, state: SlotState) -> str:
        """The paper's prompt for this slot."""
        st, qu = state_text(state, self.instance)
        p = self.instance.params
        return BOOK.render("icl", N=p.N, K=p.K, capacity_rule=self.capacity_rule, state=st, queues=qu,
                               cases=self.nearest(agent_observation(state).ravel())).strip()

    def __call__(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        decision = None if self.stopped else self.ask(state)
        if decision is None:
            self.fallbacks += 1
            omega, alpha = self.fallback(state)
        else:
            omega, alpha = decision["omega"], decision["alpha"]
        if self.grow:
            w, a = self.problem.repair(self.instance, {"omega": omega[None], "alpha": alpha[None]}).values()
            self.cases.append(make_case(state, self.instance, w[0], a[0]))
        return omega, alpha

    def ask(self, state: SlotState) -> dict[str, np.ndarray] | None:
        """One validated LLM decision, or None (counted) when the answer is unusable."""
        request = Request(({"role": "user", "content": self.prompt(state)},), self.temperature, self.max_tokens,
                          self.schema, int(self.rng.integers(2**31 - 1)), "icl-decision")
        try:
            reply = self.client.complete(request)
        except TokenBudgetExhausted:
            self.stopped = "token_budget"
            return None
        except LLMError:
            if self.client.usage.calls == 0:
                raise  # never answered: a configuration error
            self.invalid["llm_error"] += 1
            return None
        try:
            checked = check_answer(self.problem, self.instance, self.space, parse_json(reply.text))
        except InvalidAnswer as exc:
            self.invalid[exc.kind] += 1
            return None
        self.repaired += bool(checked.repairs)
        return checked.decision


def run_icl(problem: Any, instance: Episode, rng: np.random.Generator, backend: Any, cases: list[Case],
            fallback: Policy, *, neighbours: int, temperature: float, grow_cases: bool, llm_timeout: float = 120.0,
            llm_retries: int = 4, llm_backoff: float = 1.0, llm_token_budget: int | None = None,
            **stats: Any) -> Result:
    """Run the ICL policy through the episode with a given backend and case set."""
    client = LLMClient(backend, timeout_s=llm_timeout, max_retries=llm_retries, backoff_s=llm_backoff,
                       token_budget=llm_token_budget)
    policy = IclPolicy(problem, instance, client, list(cases), fallback, rng, neighbours, temperature, grow_cases)
    res = run_and_report(instance, policy, None, **stats, case_set=len(cases), backend=backend.name,
                         model=backend.model)
    res.stats.update(client.usage.stats(), fallbacks=policy.fallbacks, invalid_outputs=sum(policy.invalid.values()),
                     invalid_by_kind=dict(sorted(policy.invalid.items())), repaired=policy.repaired,
                     stop_reason=policy.stopped or "episode_end")
    return res


@register_solver("llm-icl", SCENARIO_ID, "LLM in-context learning from the nearest MARL cases, validated JSON, "
                                        "MARL fallback; --llm-backend embedded|openai|replay",
                 budget_unit="training_slots")
def solve_icl(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator,
              llm_backend: str | None = None, llm_model: str | None = None, llm_base_url: str | None = None,
              llm_api_key_env: str = "OPENAI_API_KEY", llm_record: str | None = None, llm_replay: str | None = None,
              llm_threads: int | None = None, llm_timeout: float = 120.0, llm_retries: int = 4,
              llm_backoff: float = 1.0, llm_token_budget: int | None = None, temperature: float = 0.0,
              neighbours: int = 3, case_episodes: int = 2, grow_cases: bool = True, episodes: int = 40,
              checkpoint: str | None = None, hidden: list[int] = list(HIDDEN), lr_actor: float = 2e-4,
              lr_critic: float = 1e-3, gamma: float = 0.95, tau: float = 0.01, batch_size: int = 64,
              noise: float = 0.2, progress: bool = True) -> Result:
    """Train or load MARL (same options as ``marl``; ``budget`` = its training slots), collect its case set on
    ``case_episodes`` fresh episodes, then let the LLM decide every slot of the instance's episode."""
    from offloadlab.core.config import parse_model
    from offloadlab.methods.dt_vehicular.training import IclSettings

    s = parse_model(IclSettings, {"neighbours": neighbours, "case_episodes": case_episodes,
                                  "temperature": temperature}, "option")
    backend = make_backend(llm_backend, model=llm_model, base_url=llm_base_url, api_key_env=llm_api_key_env,
                           threads=llm_threads, record=llm_record, replay=llm_replay)
    agents, stats = trained_agents(instance, rng, budget, episodes=episodes, checkpoint=checkpoint, hidden=hidden,
                                   lr_actor=lr_actor, lr_critic=lr_critic, gamma=gamma, tau=tau,
                                   batch_size=batch_size, noise=noise, progress=progress)
    stats.pop("training_episode_rewards", None)
    marl = maddpg_policy(agents, instance.params.K)
    cases = collect_cases(instance.params, marl, rng, s.case_episodes)
    return run_icl(problem, instance, rng, backend, cases, marl, neighbours=s.neighbours, temperature=s.temperature,
                   grow_cases=grow_cases, llm_timeout=llm_timeout, llm_retries=llm_retries, llm_backoff=llm_backoff,
                   llm_token_budget=llm_token_budget, **stats)
