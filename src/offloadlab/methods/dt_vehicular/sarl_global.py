"""Extra (not the paper's SARL): one Stable-Baselines3 agent (DDPG by default) deciding for every vehicle
from the global state (every vehicle's s_n(t) and the backlogs, N (2K + 3) values).

Trained on the Gymnasium env; three hidden layers (300, 100, 64) with ReLU everywhere. The paper's SARL
decides on local information (``sarl.py``); this centralised single agent sees more than MARL's actors
and is kept only as a comparison.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result
from offloadlab.methods.dt_vehicular.hyper import (
    SARL,
    BatchSize,
    Checkpoint,
    Episodes,
    Gamma,
    Hidden,
    LearningRate,
    Noise,
    Tau,
)
from offloadlab.methods.dt_vehicular.results import run_and_report
from offloadlab.methods.dt_vehicular.training import checkpoint_path
from offloadlab.rl.common import load_checkpoint, sb3_callback, seed_torch, training_progress
from offloadlab.scenarios.dt_vehicular.env import DtVehicularEnv, agent_observation, split_action
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode, SlotState

Algorithm = Literal["ddpg", "td3", "sac"]
ALGORITHMS = ("ddpg", "td3", "sac")


def _algorithm(name: str) -> Any:
    import stable_baselines3 as sb3

    if name not in ALGORITHMS:
        raise InputError("option algo", f"'{name}' is not one of {', '.join(ALGORITHMS)}")
    return {"ddpg": sb3.DDPG, "td3": sb3.TD3, "sac": sb3.SAC}[name]


@register_solver(
    "sarl-global",
    SCENARIO_ID,
    "extra, not the paper's SARL: one SB3 agent (DDPG default) deciding "
    "for all vehicles from the global state (--checkpoint)",
    budget_unit="training_slots",
)
def solve_sarl_global(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    episodes: Episodes = SARL.episodes,
    checkpoint: Checkpoint | None = None,
    algo: Annotated[Algorithm, Field(description="Stable-Baselines3 algorithm of the single agent")] = "ddpg",
    hidden: Hidden = SARL.hidden,
    learning_rate: LearningRate = 1e-3,
    gamma: Gamma = SARL.gamma,
    tau: Tau = SARL.tau,
    batch_size: BatchSize = SARL.batch_size,
    noise: Annotated[Noise, Field(description="action noise std (DDPG, TD3)")] = 0.1,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
) -> Result:
    """Train (``budget`` slots, default ``episodes`` episodes) or load the agent, then run it through the episode."""
    import torch.nn as nn
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.noise import NormalActionNoise

    p = instance.params
    cls = _algorithm(algo)
    seed = seed_torch(rng)
    env = Monitor(DtVehicularEnv(p))
    path = checkpoint_path(checkpoint, p, instance.seed)
    stats: dict[str, Any]
    if path is not None and path.exists():
        what = f"a sarl-global {algo} checkpoint (a Stable-Baselines3 zip) for N={p.N}, K={p.K}"
        model = load_checkpoint(path, what, lambda file: cls.load(file, device="cpu"))
        if model.observation_space.shape != env.observation_space.shape:
            raise InputError(
                f"checkpoint {path}",
                f"holds a policy for observations of shape {model.observation_space.shape}, "
                f"this instance needs {env.observation_space.shape} (expected {what})",
            )
        stats = {"loaded_checkpoint": str(path), "training_steps": 0}
    else:
        steps = budget or episodes * p.slots
        kwargs: dict[str, Any] = {}
        if algo != "sac":  # SB3's DDPG and TD3 explore only with an explicit action noise
            size = p.N * 2 * p.K
            kwargs = {"tau": tau, "action_noise": NormalActionNoise(np.zeros(size), np.full(size, noise))}
        model = cls(
            "MlpPolicy",
            env,
            learning_rate=learning_rate,
            gamma=gamma,
            batch_size=batch_size,
            seed=seed,
            device="cpu",
            learning_starts=min(steps // 5, 10 * batch_size),
            verbose=0,
            policy_kwargs={"net_arch": list(hidden), "activation_fn": nn.ReLU},
            **kwargs,
        )
        with training_progress(f"SARL-global {algo} N={p.N}", steps, progress) as update:

            def show(timesteps: int, _: Any) -> None:
                rewards = env.get_episode_rewards()
                update(timesteps, f"last episode reward {rewards[-1]:.4g}" if rewards else "")

            model.learn(total_timesteps=steps, callback=sb3_callback(show))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        stats = {"training_steps": steps, "training_episode_rewards": [float(e) for e in env.get_episode_rewards()]}

    def policy(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        action, _ = model.predict(agent_observation(state).ravel(), deterministic=True)
        return split_action(action, p.K)

    return run_and_report(instance, policy, None, algo=algo, **stats)
