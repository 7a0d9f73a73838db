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

from typing import Any

import numpy as np
import torch
from torch import nn

from offloadlab.core.config import parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.result import Result
from offloadlab.methods.mec_queues.dqn_params import DQN, DqnParams
from offloadlab.methods.mec_queues.episode import add_open_loop, play, to_result
from offloadlab.rl.record import TrainingRecord
from offloadlab.scenarios.mec_queues.env import tang_wong_obs
from offloadlab.scenarios.mec_queues.instance import MecInstance, sample_arrivals
from offloadlab.scenarios.mec_queues.params import HISTORY_SLOTS
from offloadlab.scenarios.mec_queues.sim import QueueSim


class DuelingLstmQ(nn.Module):
    """LSTM over the load history + two ReLU layers + dueling head."""

    def __init__(self, n_features: int, n_servers: int, n_actions: int, hidden: int = DQN.hidden, lstm: int = DQN.lstm):
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

    def __init__(self, n_features: int, n_servers: int, rng: np.random.Generator, hp: DqnParams = DQN):
        self.n_actions = n_servers + 1
        self.online = DuelingLstmQ(n_features, n_servers, self.n_actions, hp.hidden, hp.lstm)
        self.target = DuelingLstmQ(n_features, n_servers, self.n_actions, hp.hidden, hp.lstm)
        self.opt = torch.optim.RMSprop(self.online.parameters(), lr=hp.lr, alpha=0.9, eps=1e-10)
        self.hp = hp
        self.eps = 0.0
        self.rng = rng
        memory = hp.memory
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

    def learn(self) -> float | None:
        """One double-DQN update on a random batch; its loss (None while the memory is short of a batch)."""
        hp = self.hp
        if self.stored < hp.batch:
            return None
        if self.learn_steps % hp.replace_every == 0:
            self.target.load_state_dict(self.online.state_dict())
        idx = self.rng.integers(0, min(self.stored, self.mem_a.size), size=hp.batch)
        obs2, hist2 = torch.from_numpy(self.mem_obs2[idx]), torch.from_numpy(self.mem_hist2[idx])
        with torch.no_grad():
            best = self.online(obs2, hist2).argmax(dim=1, keepdim=True)
            target = torch.from_numpy(self.mem_r[idx]) + hp.gamma * self.target(obs2, hist2).gather(1, best)[:, 0]
        q = self.online(torch.from_numpy(self.mem_obs[idx]), torch.from_numpy(self.mem_hist[idx]))
        taken = q.gather(1, torch.from_numpy(self.mem_a[idx])[:, None])[:, 0]
        loss = nn.functional.mse_loss(taken, target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.eps = min(self.eps + hp.eps_increment, hp.eps_max)
        self.learn_steps += 1
        return float(loss.detach())


def train_agents(
    instance: MecInstance, agents: list[Agent], slots: int, rng: np.random.Generator, hp: DqnParams = DQN
) -> TrainingRecord:
    """Train on fresh traces for ``slots`` simulated slots (whole episodes, the last one cut short). The
    record's env steps are slots, an episode's return the sum of its tasks' rewards (-delay, -2 D if
    dropped) known by its end, and an update one agent's learning step."""
    p = instance.params
    record = TrainingRecord()
    while record.env_steps < slots:
        sim = QueueSim(p, sample_arrivals(p, rng))
        pending: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = {}
        obs, hist = tang_wong_obs(sim)
        while not sim.done and record.env_steps < slots:
            t, acts = sim.t, np.zeros(p.devices, dtype=np.int64)
            for d_act in np.flatnonzero(obs[:, 0] > 0):
                acts[d_act] = agents[d_act].act(obs[d_act], hist)
            sim.step(acts)
            obs2, hist2 = tang_wong_obs(sim)
            for d_new in np.flatnonzero(obs[:, 0] > 0):
                pending[(t, int(d_new))] = (obs[d_new], hist, int(acts[d_new]), obs2[d_new], hist2)
            reward = 0.0
            for (t0, d), (o, h, a, o2, h2) in list(pending.items()):
                if not np.isnan(sim.delay[0, t0, d]):
                    r = -2.0 * p.deadline_slots if sim.dropped[0, t0, d] else -float(sim.delay[0, t0, d])
                    agents[d].store(o, h, a, r, o2, h2)
                    reward += r
                    del pending[(t0, d)]
            obs, hist = obs2, hist2
            record.step(reward)
            step = record.env_steps
            if step > hp.learn_start and step % hp.learn_every == 0:
                for agent in agents:
                    loss = agent.learn()
                    if loss is not None:
                        record.update(loss)
        if sim.done:
            record.end_episode()
    return record


def dqn(problem: Any, instance: Any, budget: int | None, rng: np.random.Generator, **options: Any) -> Result:
    """Train one agent per device for ``budget`` slots (default ``episodes`` whole episodes), then play the instance
    greedily; ``options`` are fields of ``DqnParams``."""
    inst = instance if isinstance(instance, MecInstance) else problem.load_instance(instance)
    hp = parse_model(DqnParams, options, "option")
    slots = hp.episodes * inst.params.horizon if budget is None else int(budget)
    if slots < 0:
        raise InputError("budget", f"training slots must be >= 0 (got {slots})")
    torch.set_num_threads(hp.threads)
    torch.manual_seed(int(rng.integers(2**31)))
    n_features = 3 + inst.params.servers
    agents = [Agent(n_features, inst.params.servers, rng, hp) for _ in range(inst.params.devices)]
    record = train_agents(inst, agents, slots, rng, hp)

    def policy(sim: QueueSim) -> np.ndarray:
        obs, hist = tang_wong_obs(sim)
        acts = np.zeros(sim.D, dtype=np.int64)
        for d in np.flatnonzero(obs[:, 0] > 0):
            acts[d] = agents[d].act(obs[d], hist, greedy=True)
        return acts

    stats = {**record.stats(), "final_epsilon": agents[0].eps}
    result = to_result(play(inst, policy), record.started, label="baseline (Tang & Wong DRL)", **stats)
    return add_open_loop(result, inst, policy)
