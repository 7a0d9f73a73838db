"""The leo-inference Problem: binds the pure model to the core protocol.

Objective (direction min): minus the total offloading benefit of eq. (7), sum over offloaded tasks of
F(alpha Delta_c + (1 - alpha) Delta_a). Mean latency, delivery latency and loads are reported as details.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import ArrayField, DecisionSpace
from offloadlab.scenarios.leo_inference.instance import SCENARIO_ID, LeoInstance, load_instance, make_instance_json
from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.params import PRESETS


@lru_cache(maxsize=8)
def model_of(instance: LeoInstance) -> Model:
    """The derived model of an instance (paths and benefits computed once per instance object)."""
    return Model(instance)


class LeoInferenceProblem(ProblemBase):
    """Seed 003: which tasks leave the satellite, and to which server and container (eqs. 7-8)."""

    manifest = Manifest(
        id=SCENARIO_ID,
        paper="Yao et al., LEOEdge, IEEE JSAC 2024",
        seed="003",
        objective=Objective("neg_total_benefit", "Minus the total offloading benefit (eq. 7)", "", "min"),
        presets=tuple(PRESETS),
        gym_ids=("offloadlab/leo-inference-v0",),
        parallel_env_ids=("offloadlab/leo-inference-parallel-v0",),
        small={"satellites": 3, "hours": 0.15},  # the first reachable tasks come after about 0.1 h
    )
    objective_cap = 0.0  # all-local has objective 0; every feasible decision scores <= 0

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """Generate instance JSON (``satellites``, ``hours``, ``stations=[names]`` and any parameter)."""
        return make_instance_json(seed, preset, **overrides)

    def load_instance(self, data: Mapping[str, Any]) -> LeoInstance:
        """Validate instance JSON strictly."""
        return load_instance(data)

    def decision_space(self, instance: LeoInstance) -> DecisionSpace:
        """y1 [N], y2 [N, S], y3 [N, O], all 0/1."""
        p, n = instance.params, instance.n_tasks
        return DecisionSpace(
            (
                ArrayField("offload", (n,), 0, 1, True, "y1: 1 = task leaves the satellite for the LBS"),
                ArrayField("server", (n, p.servers), 0, 1, True, "y2: LBS sends the task to this server"),
                ArrayField(
                    "container",
                    (n, p.containers),
                    0,
                    1,
                    True,
                    "y3: container o (server o // containers_per_server) runs the task",
                ),
            ),
            (
                "sum_s server[n, s] == offload[n]",
                "sum of container[n, o] over server s's containers == server[n, s]",
                "offload only tasks with a direct or relay path at their arrival (Algorithm 4)",
                "container load (Q_o + Y_o) / slots <= p and cluster load <= p in every round",
            ),
        )

    def evaluate(self, instance: LeoInstance, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Batched evaluation: benefit, constraints, queues and latencies."""
        y1 = np.asarray(decisions["offload"], float)
        y2, y3 = np.asarray(decisions["server"], float), np.asarray(decisions["container"], float)
        if y1.ndim == 1:
            y1, y2, y3 = y1[None], y2[None], y3[None]
        return model_of(instance).evaluate(y1, y2, y3)

    def local_decision(self, instance: LeoInstance) -> dict[str, np.ndarray]:
        """Every task on board."""
        return model_of(instance).decision_from_targets(np.full(instance.n_tasks, -1))


PROBLEM = LeoInferenceProblem()
