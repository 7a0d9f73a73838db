"""The dt-vehicular Problem: binds the pure model to the core protocol (a sequential scenario)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import ArrayField, DecisionSpace
from offloadlab.scenarios.dt_vehicular import model
from offloadlab.scenarios.dt_vehicular.model import Episode
from offloadlab.scenarios.dt_vehicular.params import PRESETS


class DtVehicularProblem(ProblemBase):
    """Seed 004: per slot, offloading shares omega and edge CPU shares alpha of every vehicle's K tasks,
    minimising the drift-plus-penalty P2 (eq. 24) averaged over an episode, with the work still queued at
    its end charged once (``model.terminal_cost``) and spread over its slots.

    The instance is the episode's configuration and seed. ``evaluate`` plays the episode applying the
    same (stationary) decision in every slot, without projection: a decision that breaks the bounds,
    the server capacity or offloads work with no CPU is infeasible (+inf). Deadline misses are not
    infeasible: they lower the QoS (eq. 11 turns negative) and are counted in ``deadline_miss_rate``.
    Solvers run adaptive policies through the same episode instead.
    """

    manifest = Manifest(
        id=model.SCENARIO_ID,
        seed="004",
        paper="Digital-twin vehicular edge computing: Lyapunov, MARL and LLM in-context learning (seed 004)",
        objective=Objective("mean_p2_per_slot", "Mean drift-plus-penalty P2 per slot", "", "min"),
        presets=tuple(PRESETS),
        sequential=True,
        prompt_dir=Path(__file__).parent / "prompts",
        gym_ids=("offloadlab/dt-vehicular-v0",),
        parallel_env_ids=("offloadlab/dt-vehicular-parallel-v0",),
        small={"N": 3, "K": 2, "slots": 10},
    )

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """The instance JSON: preset parameters with overrides, and the episode seed."""
        params = model.make_params(preset, **overrides)
        return {"scenario": self.id, "params": params.model_dump(), "seed": int(seed)}

    def load_instance(self, data: Mapping[str, Any]) -> Episode:
        """Validate instance JSON and regenerate its episode."""
        return model.load_episode(data)

    def decision_space(self, instance: Episode) -> DecisionSpace:
        """omega and alpha, [N, K] each, in [0, 1]."""
        p = instance.params
        cap = "sum(alpha) * (1 + delta_f)" if p.capacity_basis == "real" else "sum(alpha)"
        return DecisionSpace(
            fields=(
                ArrayField(
                    "omega",
                    (p.N, p.K),
                    0.0,
                    1.0,
                    description="omega[n][k] = share of vehicle n's type-k task offloaded to the server",
                ),
                ArrayField(
                    "alpha",
                    (p.N, p.K),
                    0.0,
                    1.0,
                    description="alpha[n][k] = share of the server CPU f_E the twin allocates to that task",
                ),
            ),
            constraints=(
                f"server capacity: {cap} <= 1 (delta_f = {p.delta_f:g})",
                "a task with omega > 0 needs alpha > 0",
                f"every task's latency <= {p.deadline_s:g} s (soft: lowers the QoS, counted as deadline misses)",
            ),
        )

    def evaluate(self, instance: Episode, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Play the episode with each of B stationary decisions; objective = mean P2 per slot."""
        p = instance.params
        w = _batched(decisions, "omega", (p.N, p.K))
        a = _batched(decisions, "alpha", (p.N, p.K))
        if w.shape[0] != a.shape[0]:
            raise InputError("decision", f"batch sizes differ: omega {w.shape[0]}, alpha {a.shape[0]}")
        checks = model.violations(p, w, a)
        log, queue = model.run_stationary(instance, np.clip(w, 0, 1), np.clip(a, 0, 1))
        details = model.episode_summary(p, log, queue)
        return Evaluation.from_checks(details["p2"], checks, details)

    def local_decision(self, instance: Episode) -> dict[str, np.ndarray]:
        """Everything computed on the vehicles."""
        p = instance.params
        return {"omega": np.zeros((p.N, p.K)), "alpha": np.zeros((p.N, p.K))}

    def random_decisions(self, instance: Episode, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """Uniform omega and alpha, projected onto the capacity."""
        p = instance.params
        w, a = model.project(p, rng.uniform(size=(batch, p.N, p.K)), rng.uniform(size=(batch, p.N, p.K)))
        return {"omega": w, "alpha": a}

    def repair(self, instance: Episode, decisions: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Projection onto the structural constraints (clip, CPU floor, capacity scaling)."""
        w, a = model.project(instance.params, decisions["omega"], decisions["alpha"])
        return {"omega": w, "alpha": a}

    def describe(self, instance: Episode) -> dict[str, Any]:
        """Template parameters for prompts and reports."""
        return {**instance.params.model_dump(), "seed": instance.seed}


def _batched(decisions: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in decisions:
        raise InputError(f"decision.{name}", f"missing (expected an array of shape {list(shape)})")
    arr = np.asarray(decisions[name], dtype=float)
    if arr.shape == shape:
        arr = arr[None]
    if arr.shape[1:] != shape:
        raise InputError(f"decision.{name}", f"has shape {list(arr.shape)}, expected [B, {', '.join(map(str, shape))}]")
    return arr


PROBLEM = DtVehicularProblem()
