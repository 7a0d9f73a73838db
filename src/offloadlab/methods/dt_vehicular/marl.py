"""MARL baseline: MADDPG with one agent per vehicle, trained on the PettingZoo env.

A short readable torch implementation rather than a library: no maintained package offers MADDPG
for continuous PettingZoo parallel envs on current torch (SB3 is single-agent; AgileRL and
TorchRL bring heavy dependency sets for one algorithm). Each vehicle has its own actor (its own
observation -> its omega and alpha) and its own centralised critic (every observation and action ->
Q), with target networks, soft updates (lambda = tau = 0.01) and gamma = 0.95 as in Table I.
Network settings of the paper: three hidden layers with ReLU, ReLU and tanh; widths 300 and 100
follow the authors' released code for their earlier DT edge network, the tanh layer is 64 wide.
The paper's actor ends in a softmax over all 2K outputs, which would force sum(omega) + sum(alpha)
= 1 per vehicle and forbid offloading every task; the actor here ends in a sigmoid per output, and
the server scales the requested alphas to its capacity.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result
from offloadlab.scenarios.dt_vehicular.env import DtVehicularParallelEnv, agent_observation, split_action
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode, SlotState
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams
from offloadlab.methods.dt_vehicular.results import run_and_report
from offloadlab.methods.dt_vehicular.training import check_checkpoint, checkpoint_meta, checkpoint_path
from offloadlab.rl.common import seed_torch, training_progress

HIDDEN = (300, 100, 64)


def mlp(n_in: int, n_out: int, hidden: tuple[int, ...], squash: bool):
    """ReLU, ReLU, tanh hidden layers (the paper's), then a linear output (sigmoid-squashed for actors)."""
    import torch.nn as nn

    acts = [nn.ReLU] * (len(hidden) - 1) + [nn.Tanh]
    layers, width = [], n_in
    for h, act in zip(hidden, acts):
        layers += [nn.Linear(width, h), act()]
        width = h
    layers.append(nn.Linear(width, n_out))
    if squash:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


class ReplayBuffer:
    """Uniform replay of joint transitions (obs [N, o], actions [N, a], shared reward, next obs)."""

    def __init__(self, capacity: int, n: int, obs_dim: int, act_dim: int):
        self.obs = np.zeros((capacity, n, obs_dim), np.float32)
        self.act = np.zeros((capacity, n, act_dim), np.float32)
        self.rew = np.zeros(capacity, np.float32)
        self.next = np.zeros((capacity, n, obs_dim), np.float32)
        self.size, self.pos = 0, 0

    def add(self, obs: np.ndarray, act: np.ndarray, rew: float, nxt: np.ndarray) -> None:
        """Store one transition (overwriting the oldest when full)."""
        i = self.pos
        self.obs[i], self.act[i], self.rew[i], self.next[i] = obs, act, rew, nxt
        self.pos = (i + 1) % len(self.rew)
        self.size = min(self.size + 1, len(self.rew))

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[np.ndarray, ...]:
        """A uniform batch."""
        idx = rng.integers(self.size, size=batch)
        return self.obs[idx], self.act[idx], self.rew[idx], self.next[idx]


class Maddpg:
    """N actors and N centralised critics with their target copies."""

    def __init__(self, n: int, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = HIDDEN,
                 lr_actor: float = 1e-3, lr_critic: float = 1e-3, gamma: float = 0.95, tau: float = 0.01):
        import torch

        self.n, self.obs_dim, self.act_dim, self.hidden = n, obs_dim, act_dim, tuple(hidden)
        self.gamma, self.tau = gamma, tau
        self.actors = [mlp(obs_dim, act_dim, self.hidden, squash=True) for _ in range(n)]
        self.critics = [mlp(n * (obs_dim + act_dim), 1, self.hidden, squash=False) for _ in range(n)]
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)
        self.actor_opt = [torch.optim.Adam(m.parameters(), lr=lr_actor) for m in self.actors]
        self.critic_opt = [torch.optim.Adam(m.parameters(), lr=lr_critic) for m in self.critics]

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic joint action [N, act_dim] for observations [N, obs_dim]."""
        import torch

        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32)
            return np.stack([actor(x[i]).numpy() for i, actor in enumerate(self.actors)])

    def update(self, obs: np.ndarray, act: np.ndarray, rew: np.ndarray, nxt: np.ndarray) -> float:
        """One gradient step of every critic and actor on a batch; returns the mean critic loss."""
        import torch
        import torch.nn.functional as F

        o, a, r, o2 = (torch.as_tensor(x) for x in (obs, act, rew, nxt))
        B = o.shape[0]
        with torch.no_grad():
            a2 = torch.stack([t(o2[:, j]) for j, t in enumerate(self.target_actors)], dim=1)
            target_in = torch.cat([o2.reshape(B, -1), a2.reshape(B, -1)], dim=1)
        state = o.reshape(B, -1)
        losses = []
        for i in range(self.n):
            with torch.no_grad():
                y = r[:, None] + self.gamma * self.target_critics[i](target_in)
            q = self.critics[i](torch.cat([state, a.reshape(B, -1)], dim=1))
            loss = F.mse_loss(q, y)
            self.critic_opt[i].zero_grad()
            loss.backward()
            self.critic_opt[i].step()
            losses.append(loss.item())
            joint = a.clone()
            joint[:, i] = self.actors[i](o[:, i])
            actor_loss = -self.critics[i](torch.cat([state, joint.reshape(B, -1)], dim=1)).mean()
            self.actor_opt[i].zero_grad()
            actor_loss.backward()
            self.actor_opt[i].step()
        for net, target in zip(self.actors + self.critics, self.target_actors + self.target_critics):
            for p, tp in zip(net.parameters(), target.parameters()):
                tp.data.mul_(1 - self.tau).add_(self.tau * p.data)
        return float(np.mean(losses))

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write actors, critics and the matching metadata to one file."""
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"meta": meta, "actors": [m.state_dict() for m in self.actors],
                    "critics": [m.state_dict() for m in self.critics]}, path)

    def load(self, path: Path, expected: dict[str, Any]) -> None:
        """Restore the networks from ``save`` after checking the metadata."""
        import torch

        blob = torch.load(path, weights_only=True)
        check_checkpoint(path, blob.get("meta", {}), expected)
        for nets, states in ((self.actors, blob["actors"]), (self.critics, blob["critics"])):
            for net, sd in zip(nets, states):
                net.load_state_dict(sd)
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)


def train_maddpg(params: DtVehicularParams, rng: np.random.Generator, steps: int, *, hidden: tuple[int, ...],
                 lr_actor: float, lr_critic: float, gamma: float, tau: float, batch_size: int, noise: float,
                 progress: bool) -> tuple[Maddpg, list[float]]:
    """Train on fresh seeded episodes for ``steps`` slots; returns the agents and each episode's mean reward."""
    env = DtVehicularParallelEnv(params)
    K = params.K
    obs_dim, act_dim = env.observation_space("vehicle_0").shape[0], 2 * K
    agents = Maddpg(params.N, obs_dim, act_dim, hidden, lr_actor, lr_critic, gamma, tau)
    buffer = ReplayBuffer(min(steps, 200_000), params.N, obs_dim, act_dim)
    warmup = min(steps // 5, 10 * batch_size)
    returns: list[float] = []
    done_steps = 0
    with training_progress(f"MADDPG N={params.N}", steps, progress) as update:
        while done_steps < steps:
            obs_d, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
            obs, total, n = np.stack(list(obs_d.values())), 0.0, 0
            while env.agents and done_steps < steps:
                sigma = noise * max(0.1, 1 - done_steps / steps)
                if done_steps < warmup:
                    act = rng.uniform(size=(params.N, act_dim)).astype(np.float32)
                else:
                    act = np.clip(agents.act(obs) + rng.normal(0, sigma, (params.N, act_dim)), 0, 1).astype(np.float32)
                nxt_d, rew, _, _, _ = env.step({a: act[i] for i, a in enumerate(env.possible_agents)})
                nxt = np.stack(list(nxt_d.values()))
                r = float(next(iter(rew.values())))
                buffer.add(obs, act, r, nxt)
                obs, total, n, done_steps = nxt, total + r, n + 1, done_steps + 1
                if done_steps >= warmup and buffer.size >= batch_size:
                    agents.update(*buffer.sample(rng, batch_size))
            returns.append(total / max(n, 1))
            update(done_steps, f"episode {len(returns)}: mean reward {returns[-1]:.4g}")
    return agents, returns


def maddpg_policy(agents: Maddpg, K: int):
    """The trained actors as a per-slot policy (no exploration noise)."""

    def policy(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return split_action(agents.act(agent_observation(state)), K)

    return policy


def trained_agents(instance: Episode, rng: np.random.Generator, budget: int | None, *, episodes: int,
                   checkpoint: str | None, hidden: list[int], lr_actor: float, lr_critic: float, gamma: float,
                   tau: float, batch_size: int, noise: float, progress: bool) -> tuple[Maddpg, dict[str, Any]]:
    """Load the agents from ``checkpoint`` if it exists, else train them (and save there if given)."""
    p = instance.params
    seed_torch(rng)
    meta = checkpoint_meta(p, "maddpg", hidden=list(hidden))
    path = checkpoint_path(checkpoint, p, instance.seed)
    if path is not None and path.exists():
        agents = Maddpg(p.N, 2 * p.K + 3, 2 * p.K, tuple(hidden))
        agents.load(path, meta)
        return agents, {"loaded_checkpoint": str(path), "training_steps": 0}
    steps = budget or episodes * p.slots
    agents, returns = train_maddpg(p, rng, steps, hidden=tuple(hidden), lr_actor=lr_actor, lr_critic=lr_critic,
                                   gamma=gamma, tau=tau, batch_size=batch_size, noise=noise, progress=progress)
    if path is not None:
        agents.save(path, meta)
    return agents, {"training_steps": steps, "training_episode_rewards": returns}


@register_solver("marl", SCENARIO_ID, "MADDPG, one agent per vehicle (trained on the PettingZoo env; --checkpoint)",
                 budget_unit="training_slots")
def solve_marl(problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator, episodes: int = 40,
               checkpoint: str | None = None, hidden: list[int] = list(HIDDEN), lr_actor: float = 2e-4,
               lr_critic: float = 1e-3, gamma: float = 0.95, tau: float = 0.01, batch_size: int = 64,
               noise: float = 0.2, progress: bool = True) -> Result:
    """Train (``budget`` slots, default ``episodes`` episodes) or load MADDPG, then run it through the episode."""
    agents, stats = trained_agents(instance, rng, budget, episodes=episodes, checkpoint=checkpoint, hidden=hidden,
                                   lr_actor=lr_actor, lr_critic=lr_critic, gamma=gamma, tau=tau,
                                   batch_size=batch_size, noise=noise, progress=progress)
    return run_and_report(instance, maddpg_policy(agents, instance.params.K), None, **stats)
