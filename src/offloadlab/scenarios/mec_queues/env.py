"""Gymnasium and PettingZoo environments over the mec-queues simulator, with Tang & Wong's observation.

Observation of device d at slot t (fog_env.py): ``[A, W_comp, W_tran, B_1..B_S]`` = task size (Mbit),
slots until the local CPU is free, slots until the uplink is free, and the Mbit backlog of d's tasks at
each server (Tang & Wong's tracker); all zeros when no task arrived. The server-load input of their
LSTM is the count of devices served by each server in each of the last 10 slots.

Fixed bug: fog_env.py (~line 332) writes the uplink estimate into ``t_iot_comp`` instead of
``t_iot_tran``, so their W_comp is overwritten by the upload estimate (for a local task, by t - 1) and
W_tran never leaves its initial -1. Here each estimate updates its own tracker. Waits are reported as
``max(estimate - t + 1, 0)`` (theirs go negative when idle, and the reset observation used a different
formula), so the observation is bounded below by 0.

Reward: Tang & Wong's per-task reward, -delay or -2 D for a dropped task, given in the slot where the
task's outcome becomes known (summed over devices in the Gymnasium env, per device in PettingZoo).
An episode is one arrival trace: ``slots`` decision slots then ``drain_slots`` slots without arrivals.
Without a fixed instance, each reset draws a new trace from the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from offloadlab.scenarios.mec_queues.instance import MecInstance, load_instance, make_instance, sample_arrivals
from offloadlab.scenarios.mec_queues.params import HISTORY_SLOTS, MecQueuesParams
from offloadlab.scenarios.mec_queues.sim import QueueSim


def tang_wong_obs(sim: QueueSim) -> tuple[np.ndarray, np.ndarray]:
    """Per-device observation [D, 3 + S] (zeros without a task) and the load history [10, S] of copy 0."""
    t = sim.t
    if sim.done:
        return np.zeros((sim.D, 3 + sim.S), dtype=np.float32), sim.load_hist[0].astype(np.float32)
    size = sim.arr[0, t]
    obs = np.concatenate(
        [
            size[:, None],
            np.maximum(sim.t_comp[0] - t + 1, 0)[:, None],
            np.maximum(sim.t_tran[0] - t + 1, 0)[:, None],
            sim.b_srv[0],
        ],
        axis=1,
    )
    obs[size <= 0] = 0.0
    return obs.astype(np.float32), sim.load_hist[0].astype(np.float32)


def task_costs(sim: QueueSim, known_before: np.ndarray) -> np.ndarray:
    """[D] sum over each device's tasks resolved since ``known_before`` of delay, or 2 D if dropped."""
    new = ~np.isnan(sim.delay[0]) & ~known_before
    cost = np.where(sim.dropped[0], 2.0 * sim.Dl, np.nan_to_num(sim.delay[0]))
    return np.where(new, cost, 0.0).sum(axis=0)


class _Episodes:
    """The trace source shared by both envs: a fixed instance or fresh draws from parameters."""

    def __init__(self, source: MecInstance | MecQueuesParams):
        self.instance = source if isinstance(source, MecInstance) else None
        self.params = source.params if isinstance(source, MecInstance) else source

    def new_sim(self, rng: np.random.Generator) -> QueueSim:
        arr = self.instance.arrivals if self.instance is not None else sample_arrivals(self.params, rng)
        return QueueSim(self.params, arr)

    def obs_high(self) -> float:
        """A finite upper bound of every observation entry: all the trace's Mbit, or D slots."""
        p = self.params
        biggest = max(p.size_max_mbit, float(self.instance.arrivals.max()) if self.instance is not None else 0.0)
        return float(biggest * p.slots + p.deadline_slots)

    def spaces(self) -> tuple[spaces.Box, spaces.Box]:
        p = self.params
        task = spaces.Box(0.0, self.obs_high(), shape=(3 + p.servers,), dtype=np.float32)
        load = spaces.Box(0.0, float(p.devices), shape=(HISTORY_SLOTS, p.servers), dtype=np.float32)
        return task, load


class MecQueuesEnv(gym.Env):
    """One agent choosing every device's action each slot (MultiDiscrete [S + 1] x D)."""

    metadata = {"render_modes": []}

    def __init__(self, source: MecInstance | MecQueuesParams):
        self.episodes = _Episodes(source)
        p = self.episodes.params
        _, load = self.episodes.spaces()
        self.observation_space = spaces.Dict(
            {
                "tasks": spaces.Box(0.0, self.episodes.obs_high(), shape=(p.devices, 3 + p.servers), dtype=np.float32),
                "load": load,
            }
        )
        self.action_space = spaces.MultiDiscrete([p.servers + 1] * p.devices)
        self.sim: QueueSim | None = None

    def _obs(self) -> dict[str, np.ndarray]:
        assert self.sim is not None
        tasks, load = tang_wong_obs(self.sim)
        return {"tasks": tasks, "load": load}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new episode (a new trace unless the env holds a fixed instance)."""
        super().reset(seed=seed)
        self.sim = self.episodes.new_sim(self.np_random)
        return self._obs(), {}

    def step(self, action):
        """Apply one slot of actions; reward = -(sum of the costs of tasks resolved in this slot)."""
        assert self.sim is not None, "call reset() first"
        known = ~np.isnan(self.sim.delay[0])
        self.sim.step(np.asarray(action, dtype=np.int64))
        reward = -float(task_costs(self.sim, known).sum())
        return self._obs(), reward, self.sim.done, False, {"slot": self.sim.t}


class MecQueuesParallelEnv(ParallelEnv):
    """PettingZoo parallel env: one agent per device (Tang & Wong's decentralised setting)."""

    metadata = {"render_modes": [], "name": "mec_queues_v0"}

    def __init__(self, source: MecInstance | MecQueuesParams):
        self.episodes = _Episodes(source)
        p = self.episodes.params
        self.possible_agents = [f"device_{d}" for d in range(p.devices)]
        self.agents: list[str] = []
        task, load = self.episodes.spaces()
        self._obs_space = spaces.Dict({"task": task, "load": load})
        self._act_space = spaces.Discrete(p.servers + 1)
        self.sim: QueueSim | None = None
        self._rng = np.random.default_rng()

    def observation_space(self, agent: str) -> spaces.Space:
        """Tang & Wong's per-device observation and the shared load history."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space:
        """0 local, s = server s."""
        return self._act_space

    def _obs(self) -> dict[str, dict[str, np.ndarray]]:
        assert self.sim is not None
        tasks, load = tang_wong_obs(self.sim)
        return {a: {"task": tasks[d], "load": load} for d, a in enumerate(self.possible_agents) if a in self.agents}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a new episode for every device."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.sim = self.episodes.new_sim(self._rng)
        self.agents = list(self.possible_agents)
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, int]):
        """Apply the devices' actions for one slot; each device's reward is the cost of its resolved tasks."""
        assert self.sim is not None, "call reset() first"
        acts = np.array([int(actions.get(a, 0)) for a in self.possible_agents], dtype=np.int64)
        known = ~np.isnan(self.sim.delay[0])
        self.sim.step(acts)
        cost = task_costs(self.sim, known)
        done = self.sim.done
        obs = self._obs()
        rewards = {a: -float(cost[d]) for d, a in enumerate(self.possible_agents) if a in self.agents}
        terms = {a: done for a in self.agents}
        truncs = {a: False for a in self.agents}
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos


def _source(instance: Mapping[str, Any] | None, seed: int, preset: str, overrides: Mapping[str, Any]) -> MecInstance:
    return load_instance(instance if instance is not None else make_instance(seed, preset, **overrides))


def make_env(
    instance: Mapping[str, Any] | None = None, seed: int = 0, preset: str = "default", **overrides: Any
) -> MecQueuesEnv:
    """Tang & Wong's single-device env on an instance (JSON data) or on one generated from a preset."""
    return MecQueuesEnv(_source(instance, seed, preset, overrides))


def make_parallel_env(
    instance: Mapping[str, Any] | None = None, seed: int = 0, preset: str = "default", **overrides: Any
) -> MecQueuesParallelEnv:
    """The PettingZoo env (one agent per device), built like ``make_env``."""
    return MecQueuesParallelEnv(_source(instance, seed, preset, overrides))
