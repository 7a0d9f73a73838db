"""The mec-queues Problem: an episode of slots, one offloading action per arriving task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import ArrayField, DecisionSpace
from offloadlab.scenarios.mec_queues import instance as inst
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.params import PRESETS, SCENARIO_ID
from offloadlab.scenarios.mec_queues.sim import QueueSim


def episode_metrics(sim: QueueSim) -> dict[str, np.ndarray]:
    """The contract's per-copy results of a finished simulation: delays, drops, mean delay, drop rate."""
    mask = sim.task_mask()
    T = mask.shape[1]
    delay = np.where(mask, sim.delay[:, :T], np.nan)
    dropped = sim.dropped[:, :T] & mask
    n = mask.sum(axis=(1, 2))
    total = np.where(mask, delay, 0.0).sum(axis=(1, 2))
    mean = np.divide(total, n, out=np.zeros(sim.B), where=n > 0)  # no task: nothing waited
    rate = np.divide(dropped.sum(axis=(1, 2)), n, out=np.zeros(sim.B), where=n > 0)
    return {"delay_slots": delay, "dropped": dropped, "mean_delay_slots": mean, "drop_rate": rate}


class MecQueuesProblem(ProblemBase):
    """Seed 002 (COMLLM) on Tang & Wong's simulator: per slot, each device with a new task sends it to
    its local CPU (0) or to edge server s (1-based); objective = mean task delay in slots, a dropped
    task counting D (as Tang & Wong). ``evaluate`` plays the episode with fixed actions; solvers run
    policies that see the state slot by slot."""

    manifest = Manifest(
        id=SCENARIO_ID,
        paper="Cheng, Zhang, Yang: Multi-Turn Reasoning LLMs for Task Offloading in MEC (COMLLM), 2026; "
        "simulator of Tang & Wong, IEEE TMC 2020",
        seed="002",
        objective=Objective("mean_delay_slots", "Mean task delay", "slots", "min"),
        presets=tuple(PRESETS),
        sequential=True,
        gym_ids=("offloadlab/mec-queues-v0",),
        parallel_env_ids=("offloadlab/mec-queues-parallel-v0",),
        small={"devices": 4, "servers": 3, "slots": 12},
    )
    # every task counted as dropped: the worst mean delay an episode can have
    objective_cap = 10.0

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """The instance JSON of a preset (tang-wong, comllm) with overrides (devices, servers, slots, ...)."""
        return inst.make_instance(seed, preset, **overrides)

    def load_instance(self, data: Mapping[str, Any]) -> MecInstance:
        """Validate instance JSON strictly (raises InputError naming the field)."""
        return inst.load_instance(data)

    def decision_space(self, instance: MecInstance) -> DecisionSpace:
        """actions [T][D]: 0 local, s = server s; ignored where no task arrived."""
        p = instance.params
        return DecisionSpace(
            fields=(
                ArrayField(
                    "actions",
                    (p.slots, p.devices),
                    0,
                    p.servers,
                    integer=True,
                    description="actions[t][d]: 0 = compute locally, s = offload to server s "
                    "(1-based); ignored where no task arrived",
                ),
            ),
            constraints=(
                f"a task not finished within {p.deadline_slots} slots is dropped (counted as {p.deadline_slots} slots)",
            ),
        )

    def evaluate(self, instance: MecInstance, decisions: Mapping[str, Any]) -> Evaluation:
        """Play the episode with each of B fixed action tables [B, T, D]; objective = mean delay in slots."""
        acts = check_actions(instance, decisions)
        sim = QueueSim(instance.params, np.broadcast_to(instance.arrivals, acts.shape))
        sim.run(acts)
        details = episode_metrics(sim)
        value = details["mean_delay_slots"]
        return Evaluation.from_checks(value, {"non-finite objective": ~np.isfinite(value)}, details)

    def local_decision(self, instance: MecInstance) -> dict[str, np.ndarray]:
        """Every task computed on its device."""
        return {"actions": np.zeros(instance.arrivals.shape, dtype=np.int64)}

    def random_decisions(self, instance: MecInstance, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """Uniform actions over {local, server 1..S} (the authors' random baseline)."""
        p = instance.params
        return {"actions": rng.integers(0, p.servers + 1, size=(batch, p.slots, p.devices))}

    def describe(self, instance: MecInstance) -> dict[str, Any]:
        """Template parameters of an instance."""
        return {**instance.params.model_dump(), "tasks": instance.tasks}


def check_actions(instance: MecInstance, decisions: Mapping[str, Any]) -> np.ndarray:
    """Actions as an int array [B, T, D]; where a task arrived each must be an integer in [0, S]."""
    p = instance.params
    if not isinstance(decisions, Mapping) or "actions" not in decisions:
        raise InputError("decision.actions", f"missing (expected an array of shape [{p.slots}, {p.devices}])")
    raw = decisions["actions"]
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise InputError("decision.actions", "must be a (nested) list of integers") from None
    if arr.shape == (p.slots, p.devices):
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (p.slots, p.devices):
        raise InputError("decision.actions", f"has shape {list(arr.shape)}, expected [{p.slots}, {p.devices}]")
    task = np.broadcast_to(instance.arrivals > 0, arr.shape)
    bad = task & ~(np.isfinite(arr) & (arr == np.round(arr)) & (arr >= 0) & (arr <= p.servers))
    if bad.any():
        b, t, d = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"decision.actions[{t}][{d}]",
            f"value {arr[b, t, d]!r} is not an integer in [0, {p.servers}] (0 local, s = server s)",
        )
    return np.where(task, arr, 0).astype(np.int64)


PROBLEM = MecQueuesProblem()
