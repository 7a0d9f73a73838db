"""Learning baselines of leo-inference (state, action and reward: see ``scenarios.leo_inference.env``).

- ``a3c``: built on Stable-Baselines3's A2C, the synchronous form of A3C (same advantage actor-critic update;
  the workers step in lock-step instead of pushing gradients asynchronously, which SB3 does not offer), with
  ``n_envs`` worker copies of the Gymnasium env (the LBS view: one decision per task).
- ``marl``: one agent per satellite on the PettingZoo env, independent learners with a shared MLP policy
  (parameter sharing), REINFORCE on the per-round reward (gamma = 0: a round's reward is that round's placed
  benefit minus rejections) with a running-mean baseline. Written here in torch: no maintained library
  trains PettingZoo parallel envs without extra wrappers (SuperSuit) that this project does not install.
Both finish with a greedy (deterministic) episode whose per-task targets are the decision.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.methods.leo_inference.solvers import finish
from offloadlab.rl.common import seed_torch
from offloadlab.scenarios.leo_inference.env import LeoInferenceEnv, LeoInferenceParallelEnv
from offloadlab.scenarios.leo_inference.instance import SCENARIO_ID, LeoInstance
from offloadlab.scenarios.leo_inference.problem import model_of

Threads = Annotated[int, Field(ge=1, le=64, description="torch threads")]
LearningRate = Annotated[float, Field(gt=0, le=1, description="optimiser learning rate")]
Penalty = Annotated[float, Field(ge=0, le=1e6, description="reward lost per rejected task")]


def _result(problem: Any, instance: LeoInstance, target: np.ndarray, steps: int, **stats: Any) -> Result:
    tracker = Tracker(None)
    res = finish(
        problem, instance, model_of(instance).decision_from_targets(target), tracker, training_env_steps=steps, **stats
    )
    tracker.record(steps, res.objective)
    res.history = tracker.history
    return res


@register_solver(
    "a3c",
    SCENARIO_ID,
    "A2C (Stable-Baselines3, synchronous A3C) with n_envs workers on the LBS env",
    budget_unit="env_steps",
)
def solve_a3c(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    n_envs: Annotated[int, Field(ge=1, le=64, description="worker env copies")] = 4,
    learning_rate: LearningRate = 7e-4,
    n_steps: Annotated[int, Field(ge=1, le=100_000, description="steps per worker per update")] = 8,
    penalty: Penalty = 1.0,
    threads: Threads = 1,
) -> Result:
    """Train for ``budget`` env steps (default 4,096), then run one greedy episode."""
    from stable_baselines3 import A2C
    from stable_baselines3.common.vec_env import DummyVecEnv

    steps = int(budget or 4096)
    if n_envs * n_steps > steps:  # SB3 collects a whole rollout before it looks at the budget
        raise InputError(
            "options n_envs, n_steps",
            f"one update collects n_envs x n_steps = {n_envs * n_steps} env steps, more than the budget of {steps} "
            "(lower them or raise the budget)",
        )
    if not model_of(instance).reachable.any():
        return _result(problem, instance, np.full(instance.n_tasks, -1), 0)
    seed = seed_torch(rng, threads)
    venv = DummyVecEnv([lambda: LeoInferenceEnv(instance, penalty) for _ in range(n_envs)])
    agent = A2C("MlpPolicy", venv, learning_rate=learning_rate, n_steps=n_steps, seed=seed, device="cpu", verbose=0)
    agent.learn(steps)
    env = LeoInferenceEnv(instance, penalty)
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        action, _ = agent.predict(obs, deterministic=True)
        obs, _, done, _, _ = env.step(int(action))
    return _result(problem, instance, env.target, steps, n_envs=n_envs)


@register_solver(
    "marl",
    SCENARIO_ID,
    "one agent per satellite, shared-policy independent REINFORCE (PettingZoo env)",
    budget_unit="env_steps",
)
def solve_marl(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    hidden: Annotated[int, Field(ge=1, le=4096, description="units of the policy's hidden layer")] = 32,
    learning_rate: LearningRate = 3e-3,
    penalty: Penalty = 1.0,
    threads: Threads = 1,
) -> Result:
    """Train for ``budget`` rounds stepped (default 2,000, whole episodes), then one greedy episode."""
    import torch

    steps_max = int(budget or 2000)
    seed_torch(rng, threads)
    env = LeoInferenceParallelEnv(instance, penalty)
    net = torch.nn.Sequential(torch.nn.Linear(6, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 2))
    opt = torch.optim.Adam(net.parameters(), lr=learning_rate)
    baseline, steps, episodes = 0.0, 0, 0
    while steps < steps_max:
        obs, _ = env.reset()
        if not env.agents:
            break
        losses = []
        while env.agents and steps < steps_max:
            active = [a for a in env.agents if obs[a][0] > 0]
            x = torch.as_tensor(np.array([obs[a] for a in active]), dtype=torch.float32)
            dist = torch.distributions.Categorical(logits=net(x))
            act = dist.sample()
            obs, rewards, *_ = env.step({a: int(v) for a, v in zip(active, act)})
            r = torch.as_tensor([rewards.get(a, 0.0) for a in active], dtype=torch.float32)
            losses.append(-(dist.log_prob(act) * (r - baseline)).sum())
            baseline = 0.99 * baseline + 0.01 * float(r.mean())
            steps += 1
        opt.zero_grad()
        torch.stack(losses).sum().backward()
        opt.step()
        episodes += 1
    obs, _ = env.reset()
    with torch.no_grad():
        while env.agents:
            active = [a for a in env.agents if obs[a][0] > 0]
            x = torch.as_tensor(np.array([obs[a] for a in active]), dtype=torch.float32)
            act = net(x).argmax(dim=1)
            obs, *_ = env.step({a: int(v) for a, v in zip(active, act)})
    return _result(problem, instance, env.target, steps, episodes=episodes)
