"""Learning baselines of leo-inference on the PettingZoo env (one agent per satellite; state, action and reward:
see ``scenarios.leo_inference.env``), both written in torch (``methods.leo_inference.agents``): no maintained
library trains PettingZoo parallel envs with one actor per agent without wrappers (SuperSuit) that this
project does not install, and Stable-Baselines3's A2C has one policy for one agent.

- ``marl``: independent learners, one actor network per satellite (no parameter sharing), REINFORCE on the
  per-round reward (gamma = 0: a round's reward is that round's placed benefit minus rejections) with a
  running-mean baseline per satellite, updated every ``update_rounds`` rounds within episodes (batched).
- ``a3c``: the paper's A3C with one actor per satellite and one shared critic, in its synchronous form
  (advantage actor-critic, A2C: the satellites step in lock-step and one update follows every ``n_steps``
  rounds, instead of asynchronous gradient pushes); advantage r + gamma V(s') - V(s), entropy bonus.
Option ``overload`` (default True, as the paper's baselines may): the LBS fills containers beyond the load
limit up to every slot (see the env), so a learner's load can approach 100 %; such a decision breaks
(6)-(8) and evaluates as infeasible, with its load and latency reported. False keeps the limit.
Budget: rounds stepped (env steps of the parallel env). Both finish with a greedy episode (each satellite's
most likely action) whose per-task targets are the decision; ``stats`` carry the training record
(env steps, updates, episode returns, losses).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.methods.leo_inference.solvers import finish
from offloadlab.rl.common import seed_torch
from offloadlab.rl.record import TrainingRecord
from offloadlab.scenarios.leo_inference.env import LeoInferenceParallelEnv
from offloadlab.scenarios.leo_inference.instance import SCENARIO_ID, LeoInstance
from offloadlab.scenarios.leo_inference.problem import model_of

Threads = Annotated[int, Field(ge=1, le=64, description="torch threads")]
LearningRate = Annotated[float, Field(gt=0, le=1, description="optimiser learning rate")]
Penalty = Annotated[float, Field(ge=0, le=1e6, description="reward lost per rejected task")]
Hidden = Annotated[int, Field(ge=1, le=4096, description="units of each network's hidden layer")]
Overload = Annotated[
    bool, Field(description="satellites may fill containers past the load limit (the paper's baselines can)")
]
Rounds = Annotated[int, Field(ge=1, le=100_000, description="rounds collected per update")]
DEFAULT_BUDGET = 2000  # rounds stepped


def _result(problem: Any, instance: LeoInstance, target: np.ndarray, log: TrainingRecord) -> Result:
    tracker = Tracker(None)
    res = finish(
        problem,
        instance,
        model_of(instance).decision_from_targets(target),
        tracker,
        **log.stats(),
    )
    tracker.record(max(log.env_steps, 1), res.objective)
    res.history = tracker.history
    return res


@register_solver(
    "a3c",
    SCENARIO_ID,
    "synchronous A3C (advantage actor-critic): one actor per satellite, one shared critic (PettingZoo env)",
    budget_unit="env_steps",
)
def solve_a3c(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    hidden: Hidden = 32,
    learning_rate: LearningRate = 3e-3,
    n_steps: Rounds = 8,
    gamma: Annotated[float, Field(ge=0, le=1, description="discount per round")] = 0.9,
    entropy: Annotated[float, Field(ge=0, le=10, description="entropy bonus weight")] = 0.01,
    penalty: Penalty = 1.0,
    overload: Overload = True,
    threads: Threads = 1,
) -> Result:
    """Train for ``budget`` rounds stepped (default 2,000), then run one greedy episode."""
    import torch

    from offloadlab.methods.leo_inference.agents import OBS, PerAgentMlp, Step, cat, descend, greedy_episode, train

    seed_torch(rng, threads)
    env = LeoInferenceParallelEnv(instance, penalty, overload)
    actor = PerAgentMlp(len(env.possible_agents), OBS, hidden, 2)
    critic = torch.nn.Sequential(torch.nn.Linear(OBS, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
    opt = torch.optim.Adam([*actor.parameters(), *critic.parameters()], lr=learning_rate)

    def update(batch: list[Step]) -> float:
        b = cat(batch)
        value = critic(b.obs).squeeze(1)
        with torch.no_grad():
            target = b.reward + gamma * critic(b.next_obs).squeeze(1)
        adv = target - value
        dist = torch.distributions.Categorical(logits=actor(b.agent, b.obs))
        loss = (
            -(dist.log_prob(b.action) * adv.detach()).mean() + 0.5 * adv.pow(2).mean() - entropy * dist.entropy().mean()
        )
        return descend(opt, loss)

    log = train(env, actor, int(budget or DEFAULT_BUDGET), n_steps, update)
    return _result(problem, instance, greedy_episode(env, actor), log)


@register_solver(
    "marl",
    SCENARIO_ID,
    "one actor per satellite, independent REINFORCE updated within episodes (PettingZoo env)",
    budget_unit="env_steps",
)
def solve_marl(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    hidden: Hidden = 32,
    learning_rate: LearningRate = 3e-3,
    update_rounds: Rounds = 16,
    penalty: Penalty = 1.0,
    overload: Overload = True,
    threads: Threads = 1,
) -> Result:
    """Train for ``budget`` rounds stepped (default 2,000), then run one greedy episode."""
    import torch

    from offloadlab.methods.leo_inference.agents import OBS, PerAgentMlp, Step, cat, descend, greedy_episode, train

    seed_torch(rng, threads)
    env = LeoInferenceParallelEnv(instance, penalty, overload)
    actor = PerAgentMlp(len(env.possible_agents), OBS, hidden, 2)
    opt = torch.optim.Adam(actor.parameters(), lr=learning_rate)
    baseline = torch.zeros(len(env.possible_agents))  # running mean reward per satellite

    def update(batch: list[Step]) -> float:
        b = cat(batch)
        adv = b.reward - baseline[b.agent]
        baseline.index_add_(0, b.agent, 0.05 * adv)
        logp = torch.distributions.Categorical(logits=actor(b.agent, b.obs)).log_prob(b.action)
        loss = -(logp * adv).mean()
        return descend(opt, loss)

    log = train(env, actor, int(budget or DEFAULT_BUDGET), update_rounds, update)
    return _result(problem, instance, greedy_episode(env, actor), log)
