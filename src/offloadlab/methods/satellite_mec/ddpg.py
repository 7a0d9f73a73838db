"""DDPG (Stable-Baselines3) on the satellite-mec Gymnasium env, as the paper's DRL baseline.

Paper settings (seed 000, Sec. IV) are the defaults: actor and critic with three layers (read as three
fully connected layers, i.e. two hidden layers, of width 64 each: the paper gives no widths
 and this keeps a policy update at a few milliseconds on a CPU), learning rate
1e-5, and "greedy exploration with rate 0.05", read as Gaussian action noise with standard
deviation 0.05 on the [-1, 1] action scale (DDPG's actions are continuous, so there is no discrete
greedy choice to take with probability 0.95). Left open by the paper and chosen here: discount 0
(the env's reward depends only on the proposed decision), episodes of 8 proposals, replay batch
128, 100 uniform-random warm-up steps.

The budget is environment steps, each one model evaluation. The result is the best feasible decision
proposed during training (the least penalised one if none was feasible), so the method is scored as
a search procedure, on the same axis as GA and random choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.core.space import check_number
from offloadlab.rl.common import load_checkpoint, sb3_callback, torch_threads
from offloadlab.scenarios.satellite_mec.env import SatMecEnv
from offloadlab.scenarios.satellite_mec.model import SCENARIO_ID, SatMecInstance
from offloadlab.scenarios.satellite_mec.sparse_ops import dense_only
from offloadlab.solvers.common import finish

DEFAULT_BUDGET = 3000
RECORD_EVERY = 50  # history points: every improvement and at least every this many steps


@register_solver(
    "ddpg",
    SCENARIO_ID,
    "DDPG (Stable-Baselines3; 3-layer actor/critic, lr 1e-5, Gaussian exploration 0.05)",
    budget_unit="env_steps",
    smoke=Smoke(budget=200),
)
def solve_ddpg(
    problem: Any,
    instance: SatMecInstance,
    budget: int | None,
    rng: np.random.Generator,
    learning_rate: float = 1e-5,
    noise_sigma: float = 0.05,
    hidden: tuple[int, ...] = (64, 64),
    gamma: float = 0.0,
    horizon: int = 8,
    batch_size: int = 128,
    learning_starts: int = 100,
    checkpoint: str | None = None,
    threads: int = 1,
) -> Result:
    """Train DDPG for ``budget`` env steps (default 3000) and return the best decision it proposed."""
    dense_only(instance, "ddpg")
    from stable_baselines3 import DDPG
    from stable_baselines3.common.noise import NormalActionNoise

    budget = DEFAULT_BUDGET if budget is None else int(budget)
    check_number(learning_rate, "option learning_rate", low=0, low_open=True)
    check_number(noise_sigma, "option noise_sigma", low=0)
    check_number(gamma, "option gamma", low=0, high=1)
    check_number(threads, "option threads", low=1, high=64)
    if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
        raise InputError("option hidden", f"must be a list of positive layer widths (got {hidden!r})")

    env = SatMecEnv(instance, horizon=horizon)
    tracker = Tracker(budget)
    dim = int(np.prod(env.action_space.shape or (1,)))
    noise = NormalActionNoise(mean=np.zeros(dim), sigma=noise_sigma * np.ones(dim))
    seed = int(rng.integers(2**31 - 1))
    with torch_threads(threads):
        ckpt = Path(checkpoint) if checkpoint else None
        if ckpt is not None and ckpt.exists():
            model = _load(DDPG, ckpt, env, seed)
            model.action_noise = noise
        else:
            model = DDPG(
                "MlpPolicy",
                env,
                learning_rate=learning_rate,
                buffer_size=max(budget, 1),
                learning_starts=learning_starts,
                batch_size=batch_size,
                gamma=gamma,
                action_noise=noise,
                policy_kwargs={"net_arch": list(hidden)},
                seed=seed,
                device="cpu",
                verbose=0,
            )
        recorder = EvaluationRecorder(env, tracker)
        model.learn(
            total_timesteps=budget,
            callback=sb3_callback(recorder.on_step, recorder.flush),
            reset_num_timesteps=ckpt is None or not ckpt.exists(),
        )
        if ckpt is not None:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            model.save(ckpt)
    assert env.best_decision is not None  # every env step proposes a decision
    return finish(
        problem, instance, env.best_decision, tracker, env_steps=env.evaluations, policy_updates=int(model._n_updates)
    )  # over the model's life


def _load(ddpg_cls: Any, path: Path, env: SatMecEnv, seed: int) -> Any:
    """Reload a saved policy onto this instance's env; InputError naming the file if it does not fit."""
    p = env.instance.params
    what = f"a satellite-mec ddpg checkpoint (a Stable-Baselines3 zip) for M={p.M}, N={p.N}, I={p.I}"
    return load_checkpoint(path, what, lambda file: ddpg_cls.load(file, env=env, device="cpu", seed=seed))


class EvaluationRecorder:
    """Turns env steps into Tracker history points: one whenever the best improves, else every
    ``RECORD_EVERY`` steps."""

    def __init__(self, env: SatMecEnv, tracker: Tracker):
        self.env, self.tracker = env, tracker
        self.pending = 0
        self.recorded_best = np.inf

    def on_step(self, timesteps: int, step: Any) -> None:
        """Account one env step."""
        self.pending += 1
        if self.env.best_objective < self.recorded_best or self.pending >= RECORD_EVERY:
            self.recorded_best = self.env.best_objective
            self.flush()

    def flush(self) -> None:
        """Record the steps not yet recorded."""
        if self.pending:
            self.tracker.record(self.pending, self.env.best_objective)
            self.pending = 0
