"""Per-satellite learners on the PettingZoo env (``scenarios.leo_inference.env``): one actor per satellite,
evaluated for every satellite at once (batched weights), and the rollout they share.

The env steps one scheduling round at a time; a satellite with a task in the round acts (0 on board,
1 offload); its reward is the benefit the LBS placed for it minus a penalty per rejected task.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from offloadlab.rl.record import TrainingRecord
from offloadlab.scenarios.leo_inference.env import LeoInferenceParallelEnv

OBS = 6  # the parallel env's observation size


class PerAgentMlp(torch.nn.Module):
    """One tanh MLP per agent (``agents`` x [n_in -> hidden -> n_out]); ``forward(agent_ids, x)``."""

    def __init__(self, agents: int, n_in: int, hidden: int, n_out: int):
        super().__init__()
        self.w1 = torch.nn.Parameter(torch.randn(agents, n_in, hidden) / math.sqrt(n_in))
        self.b1 = torch.nn.Parameter(torch.zeros(agents, hidden))
        self.w2 = torch.nn.Parameter(torch.randn(agents, hidden, n_out) / math.sqrt(hidden))
        self.b2 = torch.nn.Parameter(torch.zeros(agents, n_out))

    def forward(self, agent: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Outputs [B, n_out] of each row's own agent network."""
        h = torch.tanh(torch.einsum("bi,bih->bh", x, self.w1[agent]) + self.b1[agent])
        return torch.einsum("bh,bho->bo", h, self.w2[agent]) + self.b2[agent]


@dataclass
class Step:
    """One round: acting agents, their observations, actions, rewards and next observations."""

    agent: torch.Tensor
    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor


def _acting(env: LeoInferenceParallelEnv, obs: dict[str, np.ndarray]) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    active = [a for a in env.agents if obs[a][0] > 0]
    ids = torch.as_tensor([int(a.split("_")[1]) for a in active], dtype=torch.long)
    x = torch.as_tensor(np.array([obs[a] for a in active]).reshape(-1, OBS), dtype=torch.float32)
    return active, ids, x


def train(
    env: LeoInferenceParallelEnv,
    actor: PerAgentMlp,
    steps: int,
    update_rounds: int,
    update: Callable[[list[Step]], float],
) -> TrainingRecord:
    """Sample actions from ``actor`` for ``steps`` rounds (whole episodes restart), calling ``update`` on
    every ``update_rounds`` rounds collected (within episodes) and at each episode's end."""
    log, batch = TrainingRecord(), []
    obs, _ = env.reset()
    while log.env_steps < steps and env.agents:
        active, ids, x = _acting(env, obs)
        with torch.no_grad():
            act = torch.distributions.Categorical(logits=actor(ids, x)).sample()
        nxt, rewards, *_ = env.step({a: int(v) for a, v in zip(active, act)})
        r = torch.as_tensor([rewards.get(a, 0.0) for a in active], dtype=torch.float32)
        x2 = torch.as_tensor(
            np.array([nxt.get(a, np.zeros(OBS)) for a in active]).reshape(-1, OBS), dtype=torch.float32
        )
        batch.append(Step(ids, x, act, r, x2))
        log.step(float(r.sum()))
        if len(batch) >= update_rounds or not env.agents:
            log.update(update(batch))
            batch = []
        if not env.agents:
            log.end_episode()
            obs, _ = env.reset()
        else:
            obs = nxt
    return log


def greedy_episode(env: LeoInferenceParallelEnv, actor: PerAgentMlp) -> np.ndarray:
    """One episode with every satellite's most likely action; the per-task targets."""
    obs, _ = env.reset()
    with torch.no_grad():
        while env.agents:
            active, ids, x = _acting(env, obs)
            obs, *_ = env.step({a: int(v) for a, v in zip(active, actor(ids, x).argmax(dim=1))})
    return env.target


def cat(batch: list[Step]) -> Step:
    """The rounds of a batch as one Step."""
    return Step(*(torch.cat([getattr(s, f) for s in batch]) for f in ("agent", "obs", "action", "reward", "next_obs")))


def descend(opt: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One optimiser step on ``loss``; returns its value."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())
