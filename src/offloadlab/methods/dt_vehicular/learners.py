"""One actor and one critic per vehicle, trained off-policy on the PettingZoo env: the engine of MARL and SARL.

A short readable torch implementation rather than a library: no maintained package offers MADDPG for
continuous PettingZoo parallel envs on current torch (SB3 is single-agent; AgileRL and TorchRL bring
heavy dependency sets for one algorithm). With ``centralised`` critics (MADDPG) critic i sees every
vehicle's observation and action; without (SARL: independent single-agent DDPG learners), critic i sees
vehicle i's observation and action only. Target networks, soft updates and Gaussian exploration
noise decaying linearly to a tenth; the actors end in a sigmoid per output (the server scales the
requested alphas to its capacity). The paper's actor softmax over all 2K outputs would force
sum(omega) + sum(alpha) = 1 per vehicle and forbid offloading every task, so it is not used.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.methods.dt_vehicular.hyper import LearnerParams
from offloadlab.methods.dt_vehicular.results import Policy
from offloadlab.methods.dt_vehicular.training import check_checkpoint
from offloadlab.rl.common import training_progress
from offloadlab.scenarios.dt_vehicular.env import OBSERVERS, DtVehicularParallelEnv, split_action
from offloadlab.scenarios.dt_vehicular.model import SlotState
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams


def mlp(n_in: int, n_out: int, hidden: tuple[int, ...], tanh_last: bool, squash: bool) -> Any:
    """ReLU hidden layers (the last one tanh if ``tanh_last``), a linear output (sigmoid-squashed for actors)."""
    import torch.nn as nn

    acts = [nn.ReLU] * (len(hidden) - 1) + [nn.Tanh if tanh_last else nn.ReLU]
    layers: list[Any] = []
    width = n_in
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


class ActorCritics:
    """N actors and N critics (centralised or local) with their target copies."""

    def __init__(self, n: int, obs_dim: int, act_dim: int, hp: LearnerParams):
        import torch

        self.n, self.obs_dim, self.act_dim, self.hp = n, obs_dim, act_dim, hp
        hidden, tanh_last = tuple(hp.hidden), hp.tanh_last
        self.centralised = hp.centralised
        critic_in = n * (obs_dim + act_dim) if self.centralised else obs_dim + act_dim
        self.actors = [mlp(obs_dim, act_dim, hidden, tanh_last, squash=True) for _ in range(n)]
        self.critics = [mlp(critic_in, 1, hidden, tanh_last, squash=False) for _ in range(n)]
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)
        self.actor_opt = [torch.optim.Adam(m.parameters(), lr=hp.lr_actor) for m in self.actors]
        self.critic_opt = [torch.optim.Adam(m.parameters(), lr=hp.lr_critic) for m in self.critics]

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic joint action [N, act_dim] for observations [N, obs_dim]."""
        import torch

        with torch.no_grad():
            x = torch.as_tensor(obs, dtype=torch.float32)
            return np.stack([actor(x[i]).numpy() for i, actor in enumerate(self.actors)])

    def _critic_input(self, i: int, o: Any, a: Any) -> Any:
        import torch

        if self.centralised:
            return torch.cat([o.reshape(o.shape[0], -1), a.reshape(a.shape[0], -1)], dim=1)
        return torch.cat([o[:, i], a[:, i]], dim=1)

    def update(self, obs: np.ndarray, act: np.ndarray, rew: np.ndarray, nxt: np.ndarray) -> float:
        """One gradient step of every critic and actor on a batch; returns the mean critic loss."""
        import torch
        import torch.nn.functional as F

        o, a, r, o2 = (torch.as_tensor(x) for x in (obs, act, rew, nxt))
        with torch.no_grad():
            a2 = torch.stack([t(o2[:, j]) for j, t in enumerate(self.target_actors)], dim=1)
        losses = []
        for i in range(self.n):
            with torch.no_grad():
                y = r[:, None] + self.hp.gamma * self.target_critics[i](self._critic_input(i, o2, a2))
            loss = F.mse_loss(self.critics[i](self._critic_input(i, o, a)), y)
            self.critic_opt[i].zero_grad()
            loss.backward()
            self.critic_opt[i].step()
            losses.append(loss.item())
            joint = a.clone()
            joint[:, i] = self.actors[i](o[:, i])
            actor_loss = -self.critics[i](self._critic_input(i, o, joint)).mean()
            self.actor_opt[i].zero_grad()
            actor_loss.backward()
            self.actor_opt[i].step()
        for net, target in zip(self.actors + self.critics, self.target_actors + self.target_critics):
            for p, tp in zip(net.parameters(), target.parameters()):
                tp.data.mul_(1 - self.hp.tau).add_(self.hp.tau * p.data)
        return float(np.mean(losses))

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the actors (all a policy needs; about 160 kB per vehicle with the default widths) and the
        matching metadata to one file."""
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"meta": meta, "actors": [m.state_dict() for m in self.actors]}, path)

    def load(self, path: Path, expected: dict[str, Any]) -> None:
        """Restore the actors from ``save`` after checking the metadata."""
        import torch

        try:
            blob = torch.load(path, weights_only=True)
        except Exception as exc:  # torch raises RuntimeError, pickle or zip errors on foreign files
            from offloadlab.core.errors import InputError

            raise InputError("option checkpoint", f"'{path}' is not a checkpoint of this solver ({exc})") from None
        check_checkpoint(path, blob.get("meta", {}) if isinstance(blob, dict) else {}, expected)
        for net, sd in zip(self.actors, blob["actors"]):
            net.load_state_dict(sd)
        self.target_actors = copy.deepcopy(self.actors)


@dataclass
class Training:
    """A training run's record: the learning curve (mean reward per episode) and its cost."""

    steps: int
    wall_s: float
    episode_rewards: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, Any]:
        """What a solver reports about its training."""
        return {
            "training_steps": self.steps,
            "training_wall_s": round(self.wall_s, 3),
            "training_episode_rewards": self.episode_rewards,
        }


def train(
    params: DtVehicularParams, rng: np.random.Generator, steps: int, hp: LearnerParams, what: str, progress: bool
) -> tuple[ActorCritics, Training]:
    """Train on fresh seeded episodes for ``steps`` slots; returns the agents and the training record."""
    env = DtVehicularParallelEnv(params, observation=hp.observation)
    N, act_dim = params.N, 2 * params.K
    obs_dim = env.observation_space("vehicle_0").shape[0]
    agents = ActorCritics(N, obs_dim, act_dim, hp)
    buffer = ReplayBuffer(min(steps, hp.buffer_size), N, obs_dim, act_dim)
    warmup = min(steps // 5, hp.warmup_batches * hp.batch_size)
    record = Training(steps, 0.0)
    start, done = time.perf_counter(), 0
    with training_progress(f"{what} N={N}", steps, progress) as update:
        while done < steps:
            obs_d, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
            obs, total, n = np.stack(list(obs_d.values())), 0.0, 0
            while env.agents and done < steps:
                sigma = hp.noise * max(0.1, 1 - done / steps)
                if done < warmup:
                    act = rng.uniform(size=(N, act_dim)).astype(np.float32)
                else:
                    act = np.clip(agents.act(obs) + rng.normal(0, sigma, (N, act_dim)), 0, 1).astype(np.float32)
                nxt_d, rew, _, _, _ = env.step({a: act[i] for i, a in enumerate(env.possible_agents)})
                nxt = np.stack(list(nxt_d.values()))
                r = float(next(iter(rew.values())))
                buffer.add(obs, act, r, nxt)
                obs, total, n, done = nxt, total + r, n + 1, done + 1
                if done >= warmup and buffer.size >= hp.batch_size:
                    agents.update(*buffer.sample(rng, hp.batch_size))
            record.episode_rewards.append(total / max(n, 1))
            update(done, f"episode {len(record.episode_rewards)}: mean reward {record.episode_rewards[-1]:.4g}")
    record.wall_s = time.perf_counter() - start
    return agents, record


def actor_policy(agents: ActorCritics, K: int) -> Policy:
    """The trained actors as a per-slot policy (no exploration noise), each on its own observation."""
    observe = OBSERVERS[agents.hp.observation]

    def policy(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return split_action(agents.act(observe(state)), K)

    return policy
