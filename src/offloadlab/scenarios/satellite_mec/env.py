"""Gymnasium environment over the satellite-mec model, for deep RL solvers such as DDPG.

The paper's problem is one-shot (one decision per quasi-static period), so the MDP is a
repeated proposal game on one instance:

- Action: a full decision as a vector in [-1, 1]^D, D = M*N + N*I (the DecisionSpace's flat
  encoding, rescaled to its bounds). It is decoded with ``DecisionSpace.decode`` and projected with
  ``problem.repair`` (offload[m][n] > 0.5 at the largest m means "offload to m", power scaled to
  the terminal's budget, no power for local terminals), then evaluated by the model.
- Observation (all in [-2, 2]): per (satellite, terminal, sub-channel) the best-case SNR
  10 log10(G P_IoT / N0) / 30 dB; per terminal the local computing time / deadline; per satellite the
  elevation / 90 deg; the current decision (the last one proposed, all-local after reset) as its flat
  vector scaled to [0, 1]; per terminal its latency under the current decision / deadline; the
  fraction of the episode elapsed. The instance features are constant on one instance but let a
  policy be trained across instances.
- Reward: the relative saving of a penalised mean latency over all-local,
  ``(L_local - score) / deadline`` with ``score = mean(lat) + 10 * mean(max(lat - deadline, 0))`` and
  each terminal's latency capped at 10 deadlines, so a decision that misses deadlines is ranked by how
  badly and the reward stays in [-100, 1]. For a feasible decision ``score`` is its mean latency.
- Episode: ``horizon`` proposals, then truncation. The reward depends only on the action, so the
  return of a step is its own reward (solvers may use discount 0).

Every step is one model evaluation; the env counts ``evaluations`` and keeps the best decision it
has been shown (``best_decision``; feasible ones first by mean latency, then infeasible ones by
penalised score) with its ``best_objective`` (+inf while nothing feasible was proposed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from offloadlab.core.errors import InputError
from offloadlab.scenarios.satellite_mec.model import SatMecInstance
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

SNR_SCALE_DB = 30.0
OBS_BOUND = 2.0
LATENCY_CAP_DEADLINES = 10.0
DEADLINE_PENALTY = 10.0


class SatMecEnv(gym.Env):
    """Propose full (offload, power) decisions for one satellite-mec instance; see the module docstring."""

    metadata = {"render_modes": []}

    def __init__(self, instance: SatMecInstance | Mapping[str, Any], horizon: int = 8):
        if not isinstance(instance, SatMecInstance):
            loaded = PROBLEM.load_instance(instance)
            if not isinstance(loaded, SatMecInstance):
                raise InputError(
                    "instance", "the satellite-mec env takes dense instances only (not constellation-scale)"
                )
            instance = loaded
        if horizon < 1:
            raise InputError("horizon", f"value {horizon} outside the allowed range [1, inf)")
        self.instance, self.horizon = instance, int(horizon)
        self.space = PROBLEM.decision_space(instance)
        self.low, self.high = self.space.flat_bounds
        par = instance.params
        self.deadline = par.deadline_s
        self.local_decision = PROBLEM.local_decision(instance)
        self.local_mean = float(instance.local_latency_s.mean())
        snr_db = 10 * np.log10(np.maximum(instance.gain * par.p_max_w / instance.noise_w, 1e-30))
        self.features = np.concatenate(
            [
                (snr_db / SNR_SCALE_DB).ravel(),
                instance.local_latency_s / self.deadline,
                instance.elevation_deg / 90.0,
            ]
        )
        D, N = self.space.flat_size, par.N
        self.action_space = spaces.Box(-1.0, 1.0, shape=(D,), dtype=np.float32)
        size = len(self.features) + D + N + 1
        self.observation_space = spaces.Box(-OBS_BOUND, OBS_BOUND, shape=(size,), dtype=np.float32)
        self.evaluations = 0
        self.best_decision: dict[str, np.ndarray] | None = None
        self.best_objective = np.inf
        self._best_key = (True, np.inf)  # (infeasible, objective or penalised score)
        self._t = 0
        self._current = self.space.encode(self.local_decision)
        self._latency = instance.local_latency_s.copy()

    def decision(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """The repaired decision that an action in [-1, 1]^D stands for."""
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        flat = self.low + (a + 1.0) / 2.0 * (self.high - self.low)
        return PROBLEM.repair(self.instance, self.space.decode(flat))

    def score(self, latency_s: np.ndarray) -> np.ndarray:
        """Penalised mean latency of per-terminal latencies [..., N] (mean latency when feasible)."""
        lat = np.minimum(latency_s, LATENCY_CAP_DEADLINES * self.deadline)
        excess = np.clip(lat - self.deadline, 0.0, None)
        return lat.mean(axis=-1) + DEADLINE_PENALTY * excess.mean(axis=-1)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start from all-local."""
        super().reset(seed=seed)
        self._t = 0
        self._current = self.space.encode(self.local_decision)
        self._latency = self.instance.local_latency_s.copy()
        return self._obs(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Evaluate the proposed decision; reward its penalised saving over all-local."""
        decision = self.decision(action)
        ev = PROBLEM.evaluate(self.instance, {k: v[None] for k, v in decision.items()})
        self.evaluations += 1
        self._t += 1
        self._latency = ev.details["latency_s"][0]
        self._current = self.space.encode(decision)
        objective, score = float(ev.objective[0]), float(self.score(self._latency))
        key = (not bool(ev.feasible[0]), objective if ev.feasible[0] else score)
        if key < self._best_key:
            self._best_key, self.best_objective, self.best_decision = key, objective, decision
        reward = (self.local_mean - score) / self.deadline
        truncated = self._t >= self.horizon
        info = {"feasible": bool(ev.feasible[0]), "objective": objective}
        return self._obs(), reward, False, truncated, info

    def _obs(self) -> np.ndarray:
        current = (self._current - self.low) / (self.high - self.low)
        obs = np.concatenate(
            [
                self.features,
                current,
                self._latency / self.deadline,
                [self._t / self.horizon],
            ]
        )
        return np.clip(np.nan_to_num(obs, posinf=OBS_BOUND), -OBS_BOUND, OBS_BOUND).astype(np.float32)


def make_env(
    instance: Mapping[str, Any] | None = None,
    seed: int = 0,
    preset: str = "default",
    horizon: int = 8,
    **overrides: Any,
) -> SatMecEnv:
    """The env on an instance (JSON data), or on one generated from a preset, overrides and a seed."""
    return SatMecEnv(instance if instance is not None else PROBLEM.make_instance(seed, preset, **overrides), horizon)
