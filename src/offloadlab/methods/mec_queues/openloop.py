"""The authors' world (open loop): a fixed test set of decision states, each scored alone by the one-step cost.

The test set of an instance is every task of its arrival slots in the states that the authors' label source
meets: the episode is played with ``comllm-oracle`` (the argmin of the one-step cost), exactly the states of
``dataset.build_records(instance)`` (default label and behaviour), so LLM rows scored on those records share it.
At each slot the evaluated policy is asked for its actions on that state; they are scored by ``comllm_cost``
(slots) and never applied, so no decision reaches a later state. Metrics as analyze_all.py
(``comllm.open_loop_metrics``): parse failures removed, drop = cost > 12.5, performance ratio = oracle mean /
mean x 100, Jain over choice counts with n = highest id chosen, and with n = number of servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from offloadlab.scenarios.mec_queues.comllm import comllm_cost, comllm_costs, open_loop_metrics
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.oracles import arriving
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import TextState, observe

OPEN_LOOP_WORLD = "open loop: each test state scored alone by the authors' one-step cost (slots)"
TEST_STATES = "every task of the arrival slots, states of the episode played by comllm-oracle (build_records)"


def decision_slots(instance: MecInstance) -> Iterator[tuple[QueueSim, np.ndarray, list[TextState]]]:
    """Per arrival slot with tasks: the simulator (read it, do not change it), the arriving devices and their
    text states; after each yield the episode advances by the authors' label (argmin of the one-step cost)."""
    sim = QueueSim(instance.params, instance.arrivals)
    while sim.t < instance.params.slots:
        devs = arriving(sim)
        label = np.zeros(sim.D, dtype=np.int64)
        if devs.size:
            queue = sim.server_backlog_mbit()[0].sum(axis=0)
            states = [observe(sim, 0, int(d), queue) for d in devs]
            yield sim, devs, states
            label[devs] = [int(np.argmin(comllm_costs(s))) for s in states]
        sim.step(label)


def score(states: Sequence[TextState], actions: Sequence[int | None], servers: int) -> dict[str, Any]:
    """Open-loop metrics of ``actions`` (None = unparseable answer, removed) on ``states``, labelled by world;
    ``choice_counts`` = how often local and each server 1..S was chosen."""
    costs = [float("inf") if a is None else comllm_cost(s, a) for s, a in zip(states, actions)]
    oracle = [float(comllm_costs(s).min()) for s in states]
    valid = np.array([a for a in actions if a is not None and 0 <= a <= servers], dtype=np.int64)
    return {
        "world": OPEN_LOOP_WORLD,
        "test_states": TEST_STATES,
        **open_loop_metrics(costs, oracle, actions, servers),
        "oracle_mean_cost_slots": float(np.mean(oracle)) if oracle else float("nan"),
        "choice_counts": np.bincount(valid, minlength=servers + 1).tolist(),
    }


def open_loop(instance: MecInstance, policy: Callable[[QueueSim], np.ndarray]) -> dict[str, Any]:
    """The policy's open-loop metrics on the instance's test set (its actions are asked, scored, never applied)."""
    states: list[TextState] = []
    actions: list[int | None] = []
    for sim, devs, slot_states in decision_slots(instance):
        acts = np.asarray(policy(sim))
        states += slot_states
        actions += [int(a) for a in acts[devs]]
    return score(states, actions, instance.params.servers)
