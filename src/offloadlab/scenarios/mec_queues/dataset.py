"""What the LLM layer needs from mec-queues: the authors' instruction/input/output records built from
simulator states with oracle labels, the chat prompt, and a GRPO reward function over prompts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.mec_queues import comllm, oracles
from offloadlab.scenarios.mec_queues.instance import MecInstance
from offloadlab.scenarios.mec_queues.sim import QueueSim
from offloadlab.scenarios.mec_queues.text import (
    INSTRUCTION,
    SYSTEM_PROMPT,
    TextState,
    action_name,
    format_input,
    observe,
    parse_input,
    user_prompt,
)

Label = Literal["comllm-oracle", "greedy-oracle"]
Behaviour = Literal["label", "random", "least-loaded"]
BEHAVIOURS: tuple[Behaviour, ...] = ("label", "random", "least-loaded")


def record(state: TextState, action: int) -> dict[str, Any]:
    """One record in the authors' format: instruction, input (state fields), output.action_name."""
    return {"instruction": INSTRUCTION, "input": format_input(state), "output": {"action_name": action_name(action)}}


def chat_messages(state: TextState) -> list[dict[str, str]]:
    """System and user messages of the authors' prompt for one state."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user_prompt(state)}]


def labelled_states(
    instance: MecInstance,
    label: Label = "comllm-oracle",
    behaviour: Behaviour = "label",
    rng: np.random.Generator | None = None,
    limit: int | None = None,
) -> list[tuple[TextState, int]]:
    """(text state, label) of every task of an episode (slot, then device order), labelled by ``label``.

    The states come from playing the episode with the labels themselves (``behaviour="label"``: the
    states a deployed policy meets), with uniformly random actions (``"random"``: more varied queues) or
    with least-loaded (``"least-loaded"``: never local, busy servers). Stops after ``limit`` states.
    """
    if label not in ("comllm-oracle", "greedy-oracle"):
        raise InputError("label", f"must be 'comllm-oracle' or 'greedy-oracle' (got {label!r})")
    if behaviour not in BEHAVIOURS:
        raise InputError("behaviour", f"must be one of {', '.join(BEHAVIOURS)} (got {behaviour!r})")
    rng = rng or np.random.default_rng(0)
    decide = oracles.comllm_oracle_actions if label == "comllm-oracle" else oracles.greedy_oracle_actions
    sim = QueueSim(instance.params, instance.arrivals)
    out: list[tuple[TextState, int]] = []
    while sim.t < instance.params.slots and (limit is None or len(out) < limit):
        labels = decide(sim)
        queue = sim.server_backlog_mbit()[0].sum(axis=0)
        out += [(observe(sim, 0, d, queue), int(labels[d])) for d in oracles.arriving(sim)]
        if behaviour == "label":
            acts = labels
        elif behaviour == "random":
            acts = np.asarray(rng.integers(0, sim.S + 1, size=sim.D))
        else:
            acts = oracles.least_loaded_actions(sim)[0]
        sim.step(acts)
    return out[:limit]


def build_records(
    instance: MecInstance,
    label: Label = "comllm-oracle",
    behaviour: Behaviour = "label",
    rng: np.random.Generator | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The authors' records (instruction, input, output) of ``labelled_states``."""
    return [record(state, action) for state, action in labelled_states(instance, label, behaviour, rng, limit)]


def make_reward_function(
    variant: comllm.Variant = "comllm", lacs_weight: float = comllm.LACS_WEIGHT, seed: int = 0
) -> Callable[..., list[float]]:
    """A TRL-style reward ``fn(prompts, completions, **kw) -> list[float]``: the authors' reward, the state
    read back from each prompt's input block (-10 where it cannot be read). Completions may be strings or
    chat lists ``[{"content": ...}]``."""
    rng = np.random.default_rng(seed)

    def reward_fn(prompts: Sequence[Any], completions: Sequence[Any], **_: Any) -> list[float]:
        out = []
        for prompt, completion in zip(prompts, completions):
            text = completion[0].get("content", "") if isinstance(completion, list) and completion else str(completion)
            body = prompt[-1]["content"] if isinstance(prompt, list) and prompt else str(prompt)
            try:
                state: TextState | None = parse_input(body)
            except InputError:
                state = None
            out.append(comllm.reward(text, state, variant, rng, lacs_weight))
        return out

    reward_fn.__name__ = f"mec_queues_{variant}_reward"
    return reward_fn
