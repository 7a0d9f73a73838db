"""Model floor: parameters, instances and the batched evaluation (imports only offloadlab.core)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from offloadlab.core.config import StrictModel, check_seed, instance_header, parse_params, preset_params
from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import ArrayField, DecisionSpace

SCENARIO_ID = "toy-offload"


class ToyParams(StrictModel):
    """N tasks of work_cycles each; a local CPU per task and one edge CPU shared equally by its tasks."""

    N: int = Field(4, ge=1, le=1000, description="number of tasks")
    f_local_hz: float = Field(1e9, gt=0, description="local CPU, cycles/s")
    f_edge_hz: float = Field(4e9, gt=0, description="edge CPU shared by the offloaded tasks, cycles/s")
    uplink_s: float = Field(0.2, ge=0, description="time to upload a task")


PRESETS = {"default": {}, "slow-uplink": {"uplink_s": 2.0}}


@dataclass
class ToyInstance:
    """Parameters and the work of each task."""

    params: ToyParams
    seed: int
    work_cycles: np.ndarray  # [N]


def generate(params: ToyParams, seed: int) -> ToyInstance:
    """Task sizes uniform in [0.5, 1.5] Gcycles."""
    rng = np.random.default_rng(seed)
    return ToyInstance(params, seed, rng.uniform(0.5e9, 1.5e9, params.N))


class ToyProblem(ProblemBase):
    """Minimise the mean task latency: local work/f_local, or uplink + work / (f_edge / offloaded count)."""

    manifest = Manifest(
        id=SCENARIO_ID,
        paper="A toy offloading problem (tests only)",
        seed="toy",
        objective=Objective("mean_latency_s", "Mean latency", "s"),
        presets=tuple(PRESETS),
        small={"N": 4},
    )
    objective_cap = 1e6

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """Instance JSON."""
        inst = generate(preset_params(ToyParams, PRESETS, preset, overrides), check_seed(seed))
        return {
            "scenario": SCENARIO_ID,
            "params": inst.params.model_dump(),
            "seed": seed,
            "work_cycles": inst.work_cycles.tolist(),
        }

    def load_instance(self, data: Mapping[str, Any]) -> ToyInstance:
        """Strict: every field present."""
        instance_header(data, SCENARIO_ID, ("params", "seed", "work_cycles"), ())
        params = parse_params(ToyParams, data["params"])
        work = np.asarray(data["work_cycles"], dtype=float)
        return ToyInstance(params, check_seed(data["seed"]), work)

    def decision_space(self, instance: ToyInstance) -> DecisionSpace:
        """One 0/1 choice per task."""
        return DecisionSpace(
            (ArrayField("offload", (instance.params.N,), 0, 1, integer=True, description="1 = on the edge server"),)
        )

    def evaluate(self, instance: ToyInstance, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Batched latencies [B, N] and their mean."""
        p, x = instance.params, np.asarray(decisions["offload"], dtype=float)
        share = p.f_edge_hz / np.maximum(x.sum(axis=1, keepdims=True), 1.0)
        latency = np.where(x > 0.5, p.uplink_s + instance.work_cycles / share, instance.work_cycles / p.f_local_hz)
        mean = latency.mean(axis=1)
        return Evaluation.from_checks(
            mean, {"not_binary": np.any((x != 0) & (x != 1), axis=1)}, {"latency_s": latency, "mean_latency_s": mean}
        )


PROBLEM = ToyProblem()
