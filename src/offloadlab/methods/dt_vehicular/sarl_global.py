"""Extra (not the paper's SARL): one Stable-Baselines3 agent (DDPG by default) deciding for every vehicle
from the global state (every vehicle's s_n(t) and the backlogs, N (2K + 3) values).

Trained on the Gymnasium env; three hidden layers (300, 100, 64) with ReLU everywhere. The paper's SARL
decides on local information (``sarl.py``); this centralised single agent sees more than MARL's actors
and is kept only as a comparison.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.errors import InputError
from offloadlab.core.registry import register_solver
from offloadlab.core.result import Result
from offloadlab.methods.dt_vehicular.hyper import (
    SARL_GLOBAL,
    Algorithm,
    BatchSize,
    Checkpoint,
    Episodes,
    Gamma,
    Hidden,
    LearningRate,
    Noise,
    SarlGlobalParams,
    Tau,
)
from offloadlab.methods.dt_vehicular.results import run_and_report
from offloadlab.methods.dt_vehicular.training import checkpoint_path
from offloadlab.rl.common import load_checkpoint, sb3_callback, seed_torch, settings_of, training_progress
from offloadlab.rl.record import Sb3Recorder, TrainingRecord, loaded
from offloadlab.scenarios.dt_vehicular.env import DtVehicularEnv, agent_observation, split_action
from offloadlab.scenarios.dt_vehicular.model import SCENARIO_ID, Episode, SlotState
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams


def _algorithm(name: str) -> Any:
    import stable_baselines3 as sb3

    return {"ddpg": sb3.DDPG, "td3": sb3.TD3, "sac": sb3.SAC}[name]


def _train(p: DtVehicularParams, env: DtVehicularEnv, hp: SarlGlobalParams, steps: int, seed: int, progress: bool):
    """A fresh SB3 agent trained for ``steps`` slots; returns it and its training record."""
    import torch.nn as nn
    from stable_baselines3.common.noise import NormalActionNoise

    kwargs: dict[str, Any] = {}
    if hp.algo != "sac":  # SB3's DDPG and TD3 explore only with an explicit action noise
        size = p.N * 2 * p.K
        kwargs = {"tau": hp.tau, "action_noise": NormalActionNoise(np.zeros(size), np.full(size, hp.noise))}
    model = _algorithm(hp.algo)(
        "MlpPolicy",
        env,
        learning_rate=hp.learning_rate,
        gamma=hp.gamma,
        batch_size=hp.batch_size,
        seed=seed,
        device="cpu",
        learning_starts=min(steps // 5, hp.warmup_batches * hp.batch_size),
        verbose=0,
        policy_kwargs={"net_arch": list(hp.hidden), "activation_fn": nn.ReLU},
        **kwargs,
    )
    record = TrainingRecord()
    recorder = Sb3Recorder(record, "train/critic_loss")
    with training_progress(f"SARL-global {hp.algo} N={p.N}", steps, progress) as show:

        def on_step(timesteps: int, step: Any) -> None:
            recorder.on_step(timesteps, step)
            show(timesteps, f"last return {record.episode_returns[-1]:.4g}" if record.episode_returns else "")

        model.learn(total_timesteps=steps, callback=sb3_callback(on_step, recorder.close))
    return model, record


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
    episodes: Episodes = SARL_GLOBAL.episodes,
    checkpoint: Checkpoint | None = None,
    algo: Annotated[Algorithm, Field(description="Stable-Baselines3 algorithm of the single agent")] = SARL_GLOBAL.algo,
    hidden: Hidden = SARL_GLOBAL.hidden,
    learning_rate: LearningRate = SARL_GLOBAL.learning_rate,
    gamma: Gamma = SARL_GLOBAL.gamma,
    tau: Tau = SARL_GLOBAL.tau,
    batch_size: BatchSize = SARL_GLOBAL.batch_size,
    noise: Annotated[Noise, Field(description="action noise std (DDPG, TD3)")] = SARL_GLOBAL.noise,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
) -> Result:
    """Train (``budget`` slots, default ``episodes`` episodes) or load the agent, then run it through the episode."""
    hp = settings_of(SarlGlobalParams, locals())
    p = instance.params
    seed = seed_torch(rng)
    env = DtVehicularEnv(p)
    path = checkpoint_path(checkpoint, p, instance.seed)
    stats: dict[str, Any]
    if path is not None and path.exists():
        what = f"a sarl-global {hp.algo} checkpoint (a Stable-Baselines3 zip) for N={p.N}, K={p.K}"
        model = load_checkpoint(path, what, lambda file: _algorithm(hp.algo).load(file, device="cpu"))
        if model.observation_space.shape != env.observation_space.shape:
            raise InputError(
                f"checkpoint {path}",
                f"holds a policy for observations of shape {model.observation_space.shape}, "
                f"this instance needs {env.observation_space.shape} (expected {what})",
            )
        stats = loaded(str(path))
    else:
        model, record = _train(p, env, hp, budget or hp.episodes * p.slots, seed, progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        stats = record.stats()

    def policy(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        action, _ = model.predict(agent_observation(state).ravel(), deterministic=True)
        return split_action(action, p.K)

    return run_and_report(instance, policy, None, algo=hp.algo, **stats)
