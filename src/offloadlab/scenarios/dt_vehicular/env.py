"""Gymnasium (one agent for all vehicles) and PettingZoo (one agent per vehicle) envs over the model.

Both step the model's Simulator: an agent's action for vehicle n is [omega_n1..omega_nK, alpha_n1..alpha_nK]
in [0, 1]; the server projects the requested shares onto its capacity (``model.project``). The reward is
-P2 of the slot (eq. 24; in the last slot also minus the terminal queue cost), shared by all vehicles
(the cooperative reading of MADDPG), scaled and clipped so that a policy that lets the queues grow (P2
grows with the backlog squared) keeps the critic's targets bounded. Observations are the normalised
s_n(t) of eq. (25) plus the K normalised backlogs ("shared"), or s_n(t) alone ("local": what a vehicle
knows by itself, the paper's reading of SARL).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from offloadlab.scenarios.dt_vehicular.model import (
    Episode,
    Simulator,
    SlotCosts,
    SlotState,
    generate_episode,
    load_episode,
    make_params,
    terminal_cost,
)
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams

OBS_BOUND = 5.0  # observations are clipped to [-OBS_BOUND, OBS_BOUND]
REWARD_CLIP = 10.0  # |reward| cap: sensible policies score P2 in [-1, 1]; random ones reach 1e3 (late tasks)


class EpisodeSource:
    """Episodes for an env: the fixed instance episode, or a fresh seeded one at every reset."""

    def __init__(self, params: DtVehicularParams, episode: Episode | None = None):
        self.params = params
        self.fixed = episode

    def draw(self, rng: np.random.Generator) -> Episode:
        """The fixed episode, or a new one seeded from ``rng``."""
        if self.fixed is not None:
            return self.fixed
        return generate_episode(self.params, int(rng.integers(2**31 - 1)))


def agent_observation(state: SlotState) -> np.ndarray:
    """Per-vehicle observation [N, K + 3 + K]: own s_n(t) and the shared backlogs."""
    n = state.features.shape[0]
    obs = np.concatenate([state.features, np.repeat(state.queue_features[None], n, axis=0)], axis=1)
    return np.clip(obs, -OBS_BOUND, OBS_BOUND).astype(np.float32)


def local_observation(state: SlotState) -> np.ndarray:
    """Per-vehicle observation [N, K + 3]: own s_n(t) of eq. (25) only (tasks, position, speed, channel)."""
    return np.clip(state.features, -OBS_BOUND, OBS_BOUND).astype(np.float32)


Observation = Literal["shared", "local"]
OBSERVERS = {"shared": agent_observation, "local": local_observation}


def split_action(action: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """[N, 2K] (or flat) actions -> (omega [N, K], alpha [N, K])."""
    a = np.asarray(action, dtype=float).reshape(-1, 2 * K)
    return a[:, :K], a[:, K:]


def slot_reward(sim: Simulator, costs: SlotCosts, scale: float, clip: float) -> float:
    """-P2 of the slot just played (plus the terminal queue cost after the last one, so that an episode's
    rewards sum to -T times the objective), scaled and clipped."""
    cost = costs.p2[0] + (terminal_cost(sim.params, sim.queue)[0] if sim.done else 0.0)
    return float(np.clip(-cost * scale, -clip, clip))


def slot_info(costs: SlotCosts) -> dict[str, float]:
    """The slot's cost terms for logging."""
    return {
        "p2": float(costs.p2[0]),
        "energy_j": float(costs.energy[0]),
        "qos": float(costs.qos[0]),
        "latency_s": float(costs.latency[0].mean()),
        "edge_energy_j": float(costs.edge_energy[0]),
    }


def running(sim: Simulator | None) -> Simulator:
    """The episode's simulator; stepping before ``reset`` is an error."""
    if sim is None:
        raise RuntimeError("call reset() before step()")
    return sim


class DtVehicularEnv(gym.Env):
    """Single agent deciding omega and alpha for every vehicle; action shape (N * 2K,)."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        params: DtVehicularParams,
        episode: Episode | None = None,
        reward_scale: float = 1.0,
        reward_clip: float = REWARD_CLIP,
    ):
        self.params = params
        self.source = EpisodeSource(params, episode)
        self.reward_scale, self.reward_clip = reward_scale, reward_clip
        N, K = params.N, params.K
        self.observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(N * (2 * K + 3),), dtype=np.float32)
        self.action_space = spaces.Box(0.0, 1.0, shape=(N * 2 * K,), dtype=np.float32)
        self.sim: Simulator | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode (the fixed one, or a fresh one drawn from the env's seeded generator)."""
        super().reset(seed=seed)
        self.sim = Simulator(self.source.draw(self.np_random))
        return agent_observation(running(self.sim).state()).ravel(), {}

    def step(self, action: np.ndarray):
        """Apply one slot's decision; the episode is truncated after ``slots`` slots."""
        sim = running(self.sim)
        costs = sim.step(*split_action(action, self.params.K))
        obs = agent_observation(sim.state()).ravel()
        return obs, slot_reward(sim, costs, self.reward_scale, self.reward_clip), False, sim.done, slot_info(costs)


class DtVehicularParallelEnv(ParallelEnv):
    """One agent per vehicle ("vehicle_0", ...), each choosing its own omega_n and alpha_n; shared reward.

    ``observation="shared"``: own s_n(t) and the server's backlogs (2K + 3 values); ``"local"``: own s_n(t)
    only (K + 3 values)."""

    metadata = {"render_modes": [], "name": "dt_vehicular_v0"}

    def __init__(
        self,
        params: DtVehicularParams,
        episode: Episode | None = None,
        reward_scale: float = 1.0,
        reward_clip: float = REWARD_CLIP,
        observation: Observation = "shared",
    ):
        self.params = params
        self.source = EpisodeSource(params, episode)
        self.reward_scale, self.reward_clip = reward_scale, reward_clip
        self.possible_agents = [f"vehicle_{n}" for n in range(params.N)]
        self.agents: list[str] = []
        K = params.K
        self.observe = OBSERVERS[observation]
        width = 2 * K + 3 if observation == "shared" else K + 3
        self._obs_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(width,), dtype=np.float32)
        self._act_space = spaces.Box(0.0, 1.0, shape=(2 * K,), dtype=np.float32)
        self.rng = np.random.default_rng()
        self.sim: Simulator | None = None

    def observation_space(self, agent: str) -> spaces.Box:
        """Own state (and the shared backlogs unless local)."""
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Box:
        """[omega_n1..omega_nK, alpha_n1..alpha_nK]."""
        return self._act_space

    def state(self) -> np.ndarray:
        """Global state: every vehicle's observation, flattened (the centralised critic's input)."""
        return agent_observation(running(self.sim).state()).ravel()

    def _observations(self) -> dict[str, np.ndarray]:
        obs = self.observe(running(self.sim).state())
        return {a: obs[i] for i, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode; ``seed`` reseeds the episode generator."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.sim = Simulator(self.source.draw(self.rng))
        return self._observations(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, np.ndarray]):
        """Apply every vehicle's action (a missing agent's action counts as all zeros: compute locally)."""
        K = self.params.K
        joint = np.stack([np.asarray(actions.get(a, np.zeros(2 * K)), dtype=float) for a in self.possible_agents])
        sim = running(self.sim)
        costs = sim.step(*split_action(joint, K))
        reward = slot_reward(sim, costs, self.reward_scale, self.reward_clip)
        done = sim.done
        obs = self._observations()
        info = slot_info(costs)
        out = (
            obs,
            {a: reward for a in self.agents},
            {a: False for a in self.agents},
            {a: done for a in self.agents},
            {a: dict(info) for a in self.agents},
        )
        if done:
            self.agents = []
        return out


def _params_and_episode(
    instance: Mapping[str, Any] | None, preset: str, overrides: Mapping[str, Any]
) -> tuple[DtVehicularParams, Episode | None]:
    if instance is None:
        return make_params(preset, **overrides), None
    episode = load_episode(instance)
    return episode.params, episode


def make_env(instance: Mapping[str, Any] | None = None, preset: str = "default", **overrides: Any) -> DtVehicularEnv:
    """The single-agent env: a fixed instance's episode, or fresh seeded episodes of a preset."""
    return DtVehicularEnv(*_params_and_episode(instance, preset, overrides))


def make_parallel_env(
    instance: Mapping[str, Any] | None = None,
    preset: str = "default",
    observation: Observation = "shared",
    **overrides: Any,
) -> DtVehicularParallelEnv:
    """The PettingZoo env (one agent per vehicle), built like ``make_env``."""
    return DtVehicularParallelEnv(*_params_and_episode(instance, preset, overrides), observation=observation)
