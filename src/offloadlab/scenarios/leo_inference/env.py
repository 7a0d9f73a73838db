"""Environments of leo-inference: a Gymnasium env (one step per task, the LBS view) and a PettingZoo parallel
env (one agent per satellite, one step per scheduling round).

State, action and reward (ours; the paper gives none for its MARL and A3C baselines):
- Gymnasium: observation [benefit / max benefit, c(m_i) s, transfer d s, container loads (Q + Y) / slots [O],
  cluster load]; action 0 = on board, o + 1 = container o; reward = normalised benefit if the container
  and the cluster have room this round, -penalty (and the task stays on board) otherwise.
- PettingZoo: agent ``sat_k`` observes [has a task, normalised benefit, c(m_i) s, transfer d s, reachable,
  cluster load]; action 1 = offload this round's tasks; the LBS places offloaded tasks by decreasing benefit
  into the least-loaded container with room; reward per agent = its placed benefit - penalty per rejected task.
  Room is up to the load limit p; with ``overload`` up to every slot of a container (load 1), as the paper's
  baselines may do: the decision then breaks constraints (6)-(8) and evaluates as infeasible, with its load
  and latency still reported (no task waits for a core, so the online state stays exact).
Both keep ``target`` (per task: -1 on board, else container), so a finished episode evaluates as a decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from offloadlab.scenarios.leo_inference.instance import LeoInstance, load_instance, make_instance_json
from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.online import OnlineState, room

MAX_SECONDS = 1e3  # observation bound for times and loads


def _as_model(instance: LeoInstance | Mapping[str, Any]) -> Model:
    return Model(instance if isinstance(instance, LeoInstance) else load_instance(instance))


class LeoInferenceEnv(gym.Env):
    """One step per reachable task, in arrival order; the agent chooses on board or a container."""

    metadata = {"render_modes": []}

    def __init__(self, instance: LeoInstance | Mapping[str, Any], penalty: float = 1.0):
        self.model = _as_model(instance)
        p = self.model.p
        self.penalty = float(penalty)
        self._bmax = max(float(self.model.benefit.max(initial=0.0)), 1e-12)
        self._slots = np.asarray(p.slots_per_container, float)
        o = p.containers
        high = np.concatenate([[1.0, MAX_SECONDS, MAX_SECONDS], np.full(o + 1, MAX_SECONDS)]).astype(np.float32)
        self.observation_space = spaces.Box(np.zeros(o + 4, np.float32), high, dtype=np.float32)
        self.action_space = spaces.Discrete(o + 1)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start the episode at the first reachable task."""
        super().reset(seed=seed)
        self.state = OnlineState(self.model, self.model.reachable)
        self._flat = [(ri, n) for ri, (_, idx) in enumerate(self.state.rounds) for n in idx]
        self._pos, self._round = 0, -1
        self._enter_round()
        return self._obs(), {}

    def _enter_round(self) -> None:
        if self._pos >= len(self._flat):
            return
        ri = self._flat[self._pos][0]
        if ri != self._round:
            self._round = ri
            r, idx = self.state.rounds[ri]
            self._idx, self._choice = idx, np.full(idx.size, -1)
            self._q = self.state.queue_at(r)
            self._y = np.zeros_like(self._q)

    def _obs(self) -> np.ndarray:
        m = self.model
        if self._pos >= len(self._flat):
            return np.zeros(self.model.p.containers + 4, np.float32)
        n = self._flat[self._pos][1]
        loads = (self._q + self._y) / self._slots
        head = [m.benefit[n] / self._bmax, min(m.inst.local_s[n], MAX_SECONDS), min(m.transfer_s[n], MAX_SECONDS)]
        return np.concatenate([head, loads, [loads.mean()]]).astype(np.float32)

    def step(self, action: int):
        """Decide the current task; move to the next (committing a finished round)."""
        if self._pos >= len(self._flat):  # an episode without tasks (or stepped past its end) is over
            return self._obs(), 0.0, True, False, {}
        p, n = self.model.p, self._flat[self._pos][1]
        k = int(np.flatnonzero(self._idx == n)[0])
        reward = 0.0
        if action > 0:
            per, cluster = room(self._q + self._y, self._slots, p.load_threshold)
            o, u = int(action) - 1, int(self.model.inst.task_slots[n])
            if per[o] >= u and cluster >= u:
                self._choice[k], self._y[o] = o, self._y[o] + u
                reward = float(self.model.benefit[n] / self._bmax)
            else:
                reward = -self.penalty
        self._pos += 1
        if self._pos >= len(self._flat) or self._flat[self._pos][0] != self._round:
            self.state.commit(self._idx, self._choice)
        self._enter_round()
        done = self._pos >= len(self._flat)
        return self._obs(), reward, done, False, {}

    @property
    def target(self) -> np.ndarray:
        """Per-task decisions so far (-1 on board, else container)."""
        return self.state.target


class LeoInferenceParallelEnv(ParallelEnv):
    """One agent per satellite; one step per round with candidate tasks."""

    metadata = {"name": "leo_inference_v0", "render_modes": []}

    def __init__(self, instance: LeoInstance | Mapping[str, Any], penalty: float = 1.0, overload: bool = False):
        self.model = _as_model(instance)
        self.penalty = float(penalty)
        self._limit = 1.0 if overload else self.model.p.load_threshold
        self._bmax = max(float(self.model.benefit.max(initial=0.0)), 1e-12)
        self._slots = np.asarray(self.model.p.slots_per_container, float)
        self.possible_agents = [f"sat_{k}" for k in range(self.model.p.satellites)]
        self.agents: list[str] = []
        high = np.array([1.0, 1.0, MAX_SECONDS, MAX_SECONDS, 1.0, MAX_SECONDS], np.float32)
        self._obs_space = spaces.Box(np.zeros(6, np.float32), high, dtype=np.float32)
        self._act_space = spaces.Discrete(2)

    def observation_space(self, agent: str) -> spaces.Box:
        """Same Box for every agent."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Discrete:
        """0 on board, 1 offload."""
        return self._act_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start at the first round with a reachable task."""
        self.state = OnlineState(self.model, self.model.reachable)
        self._r = 0
        self.agents = list(self.possible_agents) if self.state.rounds else []
        return self._observe(), {a: {} for a in self.agents}

    def _observe(self) -> dict[str, np.ndarray]:
        m = self.model
        obs = {a: np.zeros(6, np.float32) for a in self.agents}
        if self._r >= len(self.state.rounds):
            return obs
        r, idx = self.state.rounds[self._r]
        load = self.state.queue_at(r).sum() / self._slots.sum()
        for a in self.agents:
            obs[a][5] = load
        for n in idx[::-1]:  # the first task of each satellite wins
            obs[f"sat_{m.inst.task_sat[n]}"][:5] = [
                1.0,
                m.benefit[n] / self._bmax,
                min(m.inst.local_s[n], MAX_SECONDS),
                min(m.transfer_s[n], MAX_SECONDS),
                float(m.reachable[n]),
            ]
        return obs

    def step(self, actions: dict[str, int]):
        """Apply the satellites' choices to this round's tasks; the LBS places them greedily."""
        m = self.model
        if self._r >= len(self.state.rounds):  # no round left: nothing to decide
            self.agents = []
            return {}, {}, {}, {}, {}
        r, idx = self.state.rounds[self._r]
        sats = m.inst.task_sat[idx]
        wants = np.array([int(actions.get(f"sat_{s}", 0)) == 1 for s in sats], dtype=bool)
        per, cluster = room(self.state.queue_at(r), self._slots, self._limit)
        load = self.state.queue_at(r) / self._slots
        choice = np.full(idx.size, -1)
        rewards = {a: 0.0 for a in self.agents}
        for k in np.flatnonzero(wants)[np.argsort(-m.benefit[idx[wants]], kind="stable")]:
            agent, u = f"sat_{sats[k]}", int(m.inst.task_slots[idx[k]])
            ok = per >= u
            if cluster >= u and ok.any():
                o = int(np.argmin(np.where(ok, load, np.inf)))
                choice[k], per[o], cluster = o, per[o] - u, cluster - u
                load[o] += u / self._slots[o]
                rewards[agent] += float(m.benefit[idx[k]] / self._bmax)
            else:
                rewards[agent] -= self.penalty
        self.state.commit(idx, choice)
        self._r += 1
        done = self._r >= len(self.state.rounds)
        obs = self._observe()
        terms = {a: done for a in self.agents}
        truncs = {a: False for a in self.agents}
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        if done:
            self.agents = []
        return obs, rewards, terms, truncs, infos

    @property
    def target(self) -> np.ndarray:
        """Per-task decisions so far (-1 on board, else container)."""
        return self.state.target


def make_env(
    instance: Mapping[str, Any] | None = None,
    seed: int = 0,
    preset: str = "default",
    penalty: float = 1.0,
    **overrides: Any,
) -> LeoInferenceEnv:
    """The single-agent env on an instance (JSON data), or on one generated from a preset and a seed."""
    return LeoInferenceEnv(instance if instance is not None else make_instance_json(seed, preset, **overrides), penalty)


def make_parallel_env(
    instance: Mapping[str, Any] | None = None,
    seed: int = 0,
    preset: str = "default",
    penalty: float = 1.0,
    **overrides: Any,
) -> LeoInferenceParallelEnv:
    """The PettingZoo env (one agent per satellite), built like ``make_env``."""
    return LeoInferenceParallelEnv(
        instance if instance is not None else make_instance_json(seed, preset, **overrides), penalty
    )
