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
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.config import parse_model
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result
from offloadlab.llm import (
    Backend,
    LLMError,
    LLMOptions,
    TokenBudgetExhausted,
    llm_method,
    make_backend,
    make_client,
    parse_llm_options,
)
from offloadlab.llm.formats import AnswerFormat
from offloadlab.llm.loop import AnswerLoop
from offloadlab.llm.templates import PromptBook
from offloadlab.methods.dt_vehicular.hyper import (
    MADDPG,
    BatchSize,
    Checkpoint,
    Episodes,
    Gamma,
    Hidden,
    LearningRate,
    LrDecay,
    LrFloor,
    MaddpgParams,
    Noise,
    NoiseDecay,
    PolicyDelay,
    Tau,
)
from offloadlab.methods.dt_vehicular.marl import HIDDEN, learned_agents, maddpg_policy
from offloadlab.methods.dt_vehicular.results import Policy, run_and_report
from offloadlab.methods.dt_vehicular.training import ICL, IclSettings
from offloadlab.rl.common import settings_of
from offloadlab.scenarios.dt_vehicular.env import agent_observation
from offloadlab.scenarios.dt_vehicular.model import (
    SCENARIO_ID,
    Episode,
    SlotState,
    generate_episode,
    run_policy,
    slot_costs,
)
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM

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
    rows = np.concatenate(
        [state.task_bytes / 1000.0, episode.position_m[state.t][:, None], episode.speed_mps[:, None], snr_db[:, None]],
        axis=1,
    )
    return json.dumps(np.round(rows, 1).tolist()), json.dumps(np.round(state.queue / 1000.0, 1).tolist())


def answer_format(episode: Episode) -> AnswerFormat:
    """The answer format of the prompt folder: omega in integer percent, alpha in integer per-mille (2 to 3
    tokens a value instead of 5 to 6 for "0.0123", which halves both the cases in the prompt and the answer)."""
    return BOOK.answer_format(PROBLEM.decision_space(episode))


def make_case(state: SlotState, episode: Episode, omega: np.ndarray, alpha: np.ndarray, fmt: AnswerFormat) -> Case:
    """A case from a state and the (projected) decision taken there, rounded onto the answer format's grid so
    that the action shown is the one whose P2 is shown."""
    decision = fmt.quantise({"omega": omega[None], "alpha": alpha[None]})
    c = slot_costs(episode.params, state.rate_bps, state.task_bytes, state.queue, decision["omega"], decision["alpha"])
    st, qu = state_text(state, episode)
    action = fmt.text({k: v[0] for k, v in decision.items()})
    return Case(agent_observation(state).ravel(), st, qu, action, f"{float(c.p2[0]):.4g}")


def collect_cases(params: Any, policy: Policy, rng: np.random.Generator, episodes: int) -> list[Case]:
    """Run the MARL policy on fresh seeded episodes and keep every slot as a case."""
    cases: list[Case] = []
    for _ in range(episodes):
        ep = generate_episode(params, int(rng.integers(2**31 - 1)))
        states: list[SlotState] = []

        def recording(state: SlotState, states: list[SlotState] = states) -> tuple[np.ndarray, np.ndarray]:
            states.append(state)
            return policy(state)

        sim = run_policy(ep, recording)
        fmt = answer_format(ep)  # read once per episode, not once per slot
        cases += [make_case(s, ep, w, a, fmt) for s, w, a in zip(states, sim.omegas, sim.alphas)]
    return cases


class IclPolicy:
    """The per-slot LLM decision with retrieval, validation (the shared answer loop), fallback and accounting."""

    def __init__(
        self,
        problem: Any,
        instance: Episode,
        loop: AnswerLoop,
        cases: list[Case],
        fallback: Policy,
        neighbours: int,
        grow_cases: bool,
    ):
        self.problem, self.instance, self.loop = problem, instance, loop
        self.cases, self.fallback = cases, fallback
        self.neighbours, self.grow = neighbours, grow_cases
        p = instance.params
        self.capacity_rule = (
            f"shared: the sum of all alpha_permille times (1 + bias) must be at most 1000, with bias {p.delta_f:g}"
            if p.capacity_basis == "real"
            else "shared: the sum of all alpha_permille at most 1000"
        )
        self.fallbacks = self.llm_errors = 0
        self.stopped = ""

    def nearest(self, key: np.ndarray) -> list[Case]:
        """The ``neighbours`` cases closest to ``key``, farthest first (the nearest sits next to the question)."""
        dist = np.array([np.linalg.norm(c.key - key) for c in self.cases])
        return [self.cases[i] for i in np.argsort(dist)[: self.neighbours][::-1]]

    def prompt(self, state: SlotState) -> str:
        """The paper's prompt for this slot."""
        st, qu = state_text(state, self.instance)
        p = self.instance.params
        return BOOK.render(
            "icl",
            N=p.N,
            K=p.K,
            capacity_rule=self.capacity_rule,
            state=st,
            queues=qu,
            cases=self.nearest(agent_observation(state).ravel()),
        ).strip()

    def __call__(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        decision = None if self.stopped else self.ask(state)
        if decision is None:
            self.fallbacks += 1
            omega, alpha = self.fallback(state)
        else:
            omega, alpha = decision["omega"], decision["alpha"]
        if self.grow:
            w, a = self.problem.repair(self.instance, {"omega": omega[None], "alpha": alpha[None]}).values()
            self.cases.append(make_case(state, self.instance, w[0], a[0], self.loop.fmt))
        return omega, alpha

    def ask(self, state: SlotState) -> dict[str, np.ndarray] | None:
        """One validated LLM decision, or None (counted) when no usable answer came back."""
        try:
            found = self.loop.ask(self.prompt(state), "icl-decision", samples=1)
        except TokenBudgetExhausted:
            self.stopped = "token_budget"
            return None
        except LLMError:
            if self.loop.client.usage.calls == 0:
                raise  # never answered: a configuration error
            self.llm_errors += 1
            return None
        return found[0].decision if found else None


def run_icl(
    problem: Any,
    instance: Episode,
    rng: np.random.Generator,
    backend: Backend | None,
    cases: list[Case],
    fallback: Policy,
    *,
    neighbours: int,
    grow_cases: bool,
    temperature: float = 0.0,
    llm: LLMOptions | None = None,
    **stats: Any,
) -> Result:
    """Run the ICL policy through the episode (``backend`` default: the options'; ``temperature`` is used
    when no options are given)."""
    llm = llm or parse_llm_options({"temperature": temperature, "answer_retries": 0})
    client = make_client(llm, backend)
    loop = AnswerLoop(client, llm, problem, instance, answer_format(instance), rng)
    policy = IclPolicy(problem, instance, loop, list(cases), fallback, neighbours, grow_cases)
    res = run_and_report(
        instance, policy, None, **stats, case_set=len(cases), backend=client.backend.name, model=client.backend.model
    )
    if policy.llm_errors:  # a slot without any answer counts as unusable too
        loop.invalid["llm_error"] += policy.llm_errors
    res.stats.update(
        client.usage.stats(), fallbacks=policy.fallbacks, **loop.stats(), stop_reason=policy.stopped or "episode_end"
    )
    return res


@register_solver(
    "llm-icl",
    SCENARIO_ID,
    "LLM in-context learning from the nearest MARL cases, validated JSON, "
    "MARL fallback; --llm-backend embedded|openai|replay",
    budget_unit="training_slots",
    smoke=Smoke(options={"episodes": 1, "case_episodes": 1, "progress": False}, slow=True),
)
@llm_method(temperature=0.0, answer_retries=0)
def solve_icl(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    *,
    llm: LLMOptions,
    neighbours: Annotated[int, Field(description="nearest MARL cases per prompt (1 to 100)")] = ICL.neighbours,
    case_episodes: Annotated[int, Field(description="MARL episodes in the case set (1 to 1000)")] = ICL.case_episodes,
    grow_cases: Annotated[bool, Field(description="add each slot the LLM decides to the case set")] = True,
    episodes: Episodes = MADDPG.episodes,
    checkpoint: Checkpoint | None = None,
    hidden: Hidden = HIDDEN,
    lr_actor: LearningRate = MADDPG.lr_actor,
    lr_critic: LearningRate = MADDPG.lr_critic,
    gamma: Gamma = MADDPG.gamma,
    tau: Tau = MADDPG.tau,
    batch_size: BatchSize = MADDPG.batch_size,
    noise: Noise = MADDPG.noise,
    noise_decay: NoiseDecay = MADDPG.noise_decay,
    lr_floor: LrFloor = MADDPG.lr_floor,
    lr_decay: LrDecay = MADDPG.lr_decay,
    policy_delay: PolicyDelay = MADDPG.policy_delay,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
) -> Result:
    """Train or load MARL (same options as ``marl``; ``budget`` = its training slots), collect its case set on
    ``case_episodes`` fresh episodes, then let the LLM decide every slot of the instance's episode (the LLM
    options are the shared ones of every LLM method: ``--llm-backend``, ``--temperature``, ...)."""
    s = parse_model(
        IclSettings,
        {"neighbours": neighbours, "case_episodes": case_episodes, "temperature": llm.temperature},
        "option",
    )
    backend = make_backend(llm)
    hp = settings_of(MaddpgParams, locals())
    agents, stats = learned_agents(instance, rng, budget, hp, "maddpg", checkpoint, progress)
    marl = maddpg_policy(agents, instance.params.K)
    cases = collect_cases(instance.params, marl, rng, s.case_episodes)
    return run_icl(
        problem, instance, rng, backend, cases, marl, neighbours=s.neighbours, grow_cases=grow_cases, llm=llm, **stats
    )
