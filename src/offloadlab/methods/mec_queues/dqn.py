"""Tang & Wong's deep RL (RL_brain.py, train.py) as a readable single-file torch solver.

One agent per device. Network: an LSTM of 20 units over the last 10 server-load vectors, its last
output concatenated with the device's observation, two 20-unit ReLU layers and a dueling head
Q = V + A - mean(A); double-DQN targets r + gamma Q_target(s', argmax_a Q_online(s', a)).
RMSProp (lr 0.01, decay 0.9, eps 1e-10 as TensorFlow 1's defaults), gamma 0.9, batch 32, replay of 500,
target copied every 200 learning steps, weights N(0, 0.3) and biases 0.1 as theirs. The exploration
parameter is the probability of the greedy action and rises by 0.00025 per learning step up to 0.99.
A transition is stored when its task's outcome is known, with reward -delay or -2 D if dropped, and its
next state is the observation of the following slot. Learning starts after 200 slots, every 10 slots.

Differences, stated: each transition keeps its own 10-slot load window (RL_brain.py rebuilds it from
10 consecutive replay rows); training traces are fresh draws from the instance's parameters (the
instance's own trace is only played, greedily, for the result); the budget counts training slots.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from offloadlab.core.errors import InputError
from offloadlab.core.result import Result
from offloadlab.methods.mec_queues.episode import add_open_loop, play, to_result
from offloadlab.scenarios.mec_queues.env import tang_wong_obs
from offloadlab.scenarios.mec_queues.instance import MecInstance, sample_arrivals
from offloadlab.scenarios.mec_queues.params import HISTORY_SLOTS
from offloadlab.scenarios.mec_queues.sim import QueueSim

LEARN_START, LEARN_EVERY = 200, 10


class DuelingLstmQ(nn.Module):
    """LSTM over the load history + two ReLU layers + dueling head."""

    def __init__(self, n_features: int, n_servers: int, n_actions: int, hidden: int = 20, lstm: int = 20):
        super().__init__()
        self.lstm = nn.LSTM(n_servers, lstm, batch_first=True)
        self.l1 = nn.Linear(lstm + n_features, hidden)
        self.l2 = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, 1)
        self.adv = nn.Linear(hidden, n_actions)
        for layer in (self.l1, self.l2, self.value, self.adv):
            nn.init.normal_(layer.weight, 0.0, 0.3)
            nn.init.constant_(layer.bias, 0.1)

    def forward(self, obs: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        """Q values [N, A] of observations [N, F] with load histories [N, 10, S]."""
        out, _ = self.lstm(hist)
        x = torch.relu(self.l1(torch.cat([out[:, -1], obs], dim=1)))
        x = torch.relu(self.l2(x))
        a = self.adv(x)
        return self.value(x) + a - a.mean(dim=1, keepdim=True)


class Agent:
    """One device's double DQN with its replay memory."""

    def __init__(
        self,
        n_features: int,
        n_servers: int,
        rng: np.random.Generator,
        lr: float = 0.01,
        gamma: float = 0.9,
        memory: int = 500,
        batch: int = 32,
        replace_every: int = 200,
        eps_max: float = 0.99,
        eps_increment: float = 0.00025,
    ):
        self.n_actions = n_servers + 1
        self.online = DuelingLstmQ(n_features, n_servers, self.n_actions)
        self.target = DuelingLstmQ(n_features, n_servers, self.n_actions)
        self.opt = torch.optim.RMSprop(self.online.parameters(), lr=lr, alpha=0.9, eps=1e-10)
        self.gamma, self.batch, self.replace_every = gamma, batch, replace_every
        self.eps, self.eps_max, self.eps_increment = 0.0, eps_max, eps_increment
        self.rng = rng
        self.mem_obs = np.zeros((memory, n_features), dtype=np.float32)
        self.mem_hist = np.zeros((memory, HISTORY_SLOTS, n_servers), dtype=np.float32)
        self.mem_obs2 = np.zeros_like(self.mem_obs)
        self.mem_hist2 = np.zeros_like(self.mem_hist)
        self.mem_a = np.zeros(memory, dtype=np.int64)
        self.mem_r = np.zeros(memory, dtype=np.float32)
        self.stored = 0
        self.learn_steps = 0

    def act(self, obs: np.ndarray, hist: np.ndarray, greedy: bool = False) -> int:
        """The greedy action with probability eps (always when ``greedy``), else a uniform one."""
        if not greedy and self.rng.uniform() >= self.eps:
            return int(self.rng.integers(self.n_actions))
        with torch.no_grad():
            q = self.online(torch.from_numpy(obs[None]), torch.from_numpy(hist[None]))
        return int(q.argmax(dim=1).item())

    def store(self, obs: np.ndarray, hist: np.ndarray, a: int, r: float, obs2: np.ndarray, hist2: np.ndarray) -> None:
        """Keep a transition, overwriting the oldest when the memory is full."""
        i = self.stored % self.mem_a.size
        self.mem_obs[i], self.mem_hist[i], self.mem_a[i], self.mem_r[i] = obs, hist, a, r
        self.mem_obs2[i], self.mem_hist2[i] = obs2, hist2
        self.stored += 1

    def learn(self) -> None:
        """One double-DQN update on a random batch."""
        if self.stored < self.batch:
            return
        if self.learn_steps % self.replace_every == 0:
            self.target.load_state_dict(self.online.state_dict())
        idx = self.rng.integers(0, min(self.stored, self.mem_a.size), size=self.batch)
        obs2, hist2 = torch.from_numpy(self.mem_obs2[idx]), torch.from_numpy(self.mem_hist2[idx])
        with torch.no_grad():
            best = self.online(obs2, hist2).argmax(dim=1, keepdim=True)
            target = torch.from_numpy(self.mem_r[idx]) + self.gamma * self.target(obs2, hist2).gather(1, best)[:, 0]
        q = self.online(torch.from_numpy(self.mem_obs[idx]), torch.from_numpy(self.mem_hist[idx]))
        taken = q.gather(1, torch.from_numpy(self.mem_a[idx])[:, None])[:, 0]
        loss = nn.functional.mse_loss(taken, target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.eps = min(self.eps + self.eps_increment, self.eps_max)
        self.learn_steps += 1


def train_agents(instance: MecInstance, agents: list[Agent], slots: int, rng: np.random.Generator) -> dict[str, Any]:
    """Train on fresh traces for ``slots`` simulated slots (whole episodes, the last one cut short)."""
    p = instance.params
    done_slots, episodes, step = 0, 0, 0
    while done_slots < slots:
        sim = QueueSim(p, sample_arrivals(p, rng))
        pending: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = {}
        obs, hist = tang_wong_obs(sim)
        while not sim.done and done_slots < slots:
            t, acts = sim.t, np.zeros(p.devices, dtype=np.int64)
            for d_act in np.flatnonzero(obs[:, 0] > 0):
                acts[d_act] = agents[d_act].act(obs[d_act], hist)
            sim.step(acts)
            obs2, hist2 = tang_wong_obs(sim)
            for d_new in np.flatnonzero(obs[:, 0] > 0):
                pending[(t, int(d_new))] = (obs[d_new], hist, int(acts[d_new]), obs2[d_new], hist2)
            for (t0, d), (o, h, a, o2, h2) in list(pending.items()):
                if not np.isnan(sim.delay[0, t0, d]):
                    r = -2.0 * p.deadline_slots if sim.dropped[0, t0, d] else -float(sim.delay[0, t0, d])
                    agents[d].store(o, h, a, r, o2, h2)
                    del pending[(t0, d)]
            obs, hist = obs2, hist2
            done_slots += 1
            step += 1
            if step > LEARN_START and step % LEARN_EVERY == 0:
                for agent in agents:
                    agent.learn()
        episodes += 1
    return {
        "training_slots": done_slots,
        "episodes": episodes,
        "learn_steps": agents[0].learn_steps,
        "final_epsilon": agents[0].eps,
    }


def dqn(
    problem: Any,
    instance: Any,
    budget: int | None,
    rng: np.random.Generator,
    threads: int = 1,
    eps_increment: float = 0.00025,
    lr: float = 0.01,
) -> Result:
    """Train one agent per device for ``budget`` slots (default 5 episodes), then play the instance greedily."""
    inst = instance if isinstance(instance, MecInstance) else problem.load_instance(instance)
    if not 1 <= threads <= 64:
        raise InputError("option threads", f"must be an integer in [1, 64] (got {threads})")
    if not 0 < eps_increment <= 1:
        raise InputError("option eps_increment", f"must be in (0, 1] (got {eps_increment})")
    if not 0 < lr <= 1:
        raise InputError("option lr", f"must be in (0, 1] (got {lr})")
    slots = 5 * inst.params.horizon if budget is None else int(budget)
    if slots < 0:
        raise InputError("budget", f"training slots must be >= 0 (got {slots})")
    torch.set_num_threads(threads)
    torch.manual_seed(int(rng.integers(2**31)))
    started = time.perf_counter()
    n_features = 3 + inst.params.servers
    agents = [
        Agent(n_features, inst.params.servers, rng, lr=lr, eps_increment=eps_increment)
        for _ in range(inst.params.devices)
    ]
    stats = train_agents(inst, agents, slots, rng)
    train_s = time.perf_counter() - started

    def policy(sim: QueueSim) -> np.ndarray:
        obs, hist = tang_wong_obs(sim)
        acts = np.zeros(sim.D, dtype=np.int64)
        for d in np.flatnonzero(obs[:, 0] > 0):
            acts[d] = agents[d].act(obs[d], hist, greedy=True)
        return acts

    result = to_result(
        play(inst, policy), started, training_seconds=train_s, label="baseline (Tang & Wong DRL)", **stats
    )
    return add_open_loop(result, inst, policy)
