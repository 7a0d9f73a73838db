"""One training record for every learner, named the same everywhere and stored with each run under
``stats["training"]``: environment steps, optimiser updates, wall seconds, and per finished episode its
return (the sum of its rewards) and its mean training loss.

An episode cut short by the budget is not recorded (its return would not be comparable). Runs stored
before this record carried learner-specific names; ``training_of`` reads the scalar ones too (their
curves were per-slot means or surplus in the details, not returns: such runs are re-run to be drawn).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Names older stored runs used for the same quantities (read, never written).
LEGACY_NAMES = {
    "training_steps": "env_steps",
    "training_slots": "env_steps",
    "training_env_steps": "env_steps",
    "training_wall_s": "wall_s",
    "training_seconds": "wall_s",
    "learn_steps": "updates",
    "policy_updates": "updates",
}


@dataclass
class TrainingRecord:
    """What a training run did and cost; ``losses[i]`` is the mean loss of the updates in episode i (nan
    where none happened, e.g. during the warm-up)."""

    env_steps: int = 0
    updates: int = 0
    wall_s: float = 0.0
    episode_returns: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter, repr=False)
    _return: float = field(default=0.0, repr=False)
    _loss_sum: float = field(default=0.0, repr=False)
    _loss_n: int = field(default=0, repr=False)

    def step(self, reward: float) -> None:
        """Account one environment step and its reward."""
        self.env_steps += 1
        self._return += float(reward)

    def update(self, loss: float) -> None:
        """Account one optimiser update and its loss."""
        self.updates += 1
        if not math.isnan(loss):
            self._loss_sum += float(loss)
            self._loss_n += 1

    def end_episode(self) -> None:
        """Close a finished episode: record its return and its mean loss."""
        self.episode_returns.append(self._return)
        self.losses.append(self._loss_sum / self._loss_n if self._loss_n else math.nan)
        self._return, self._loss_sum, self._loss_n = 0.0, 0.0, 0

    def stats(self) -> dict[str, Any]:
        """The record as a run stores it (``stats["training"]``), wall time measured up to now."""
        self.wall_s = time.perf_counter() - self.started
        return {
            "training": {
                "env_steps": self.env_steps,
                "updates": self.updates,
                "wall_s": round(self.wall_s, 3),
                "episode_returns": list(self.episode_returns),
                "losses": [None if math.isnan(x) else x for x in self.losses],
            }
        }


def loaded(path: str, trained_steps: int | None = None) -> dict[str, Any]:
    """The record of a run whose policy was loaded from a checkpoint: nothing trained in this run."""
    out: dict[str, Any] = {
        "training": {"env_steps": 0, "updates": 0, "wall_s": 0.0, "episode_returns": [], "losses": []}
    }
    out["loaded_checkpoint"] = path
    if trained_steps is not None:
        out["trained_steps"] = trained_steps
    return out


def training_of(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The training record of a stored run's stats ({} if it trained nothing), older names mapped."""
    if isinstance(stats.get("training"), Mapping):
        return dict(stats["training"])
    return {new: stats[old] for old, new in LEGACY_NAMES.items() if old in stats}


class Sb3Recorder:
    """Fills a TrainingRecord from Stable-Baselines3's step locals (``rl.common.sb3_callback``): the
    reward and episode end of each step, and the loss SB3 logged (``loss_key``) whenever its update
    count grew. One environment (SB3's vectorised env of size 1). ``info_reward`` names an info entry to
    sum instead of the reward (an env whose reward is a scaled quantity reports the quantity there)."""

    def __init__(self, record: TrainingRecord, loss_key: str, updates_before: int = 0, info_reward: str = ""):
        self.record, self.loss_key, self.info_reward = record, loss_key, info_reward
        self.seen_updates = updates_before  # a reloaded model's earlier updates are not this run's
        self.algo: Any = None

    def on_step(self, timesteps: int, step: Mapping[str, Any]) -> None:
        """Account one SB3 step."""
        self.algo = step["self"]
        self._count_updates()
        self.record.step(float(step["infos"][0][self.info_reward] if self.info_reward else step["rewards"][0]))
        if step["dones"][0]:
            self.record.end_episode()

    def close(self) -> None:
        """Account the updates made after the last step (SB3 trains after collecting it)."""
        if self.algo is not None:
            self._count_updates()

    def _count_updates(self) -> None:
        algo = self.algo
        updates = int(getattr(algo, "_n_updates", 0))
        if updates > self.seen_updates:
            loss = algo.logger.name_to_value.get(self.loss_key)
            for _ in range(updates - self.seen_updates):
                self.record.update(math.nan if loss is None else float(loss))
            self.seen_updates = updates
