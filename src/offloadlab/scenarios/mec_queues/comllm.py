"""The COMLLM authors' formulas in the open-loop world (their scripts' meaning, our code).

- ``comllm_costs``: the one-step cost (cost_calculator.calculate_cost) of every action, in slots.
- ``lacs_impact``: Look-Ahead Collaborative Simulation (predict_multiturn_impact).
- ``reward``: the GRPO reward, 0.8 * task + 0.2 * format, with the format terms of grpo_new_7B.py
  ("grpo") or comllm_train.py ("comllm"), LACS added to the cost in the "comllm" variant.
- ``parse_action``: mec_utils.parse_model_prediction (a server number first, then "local").
- ``open_loop_metrics``: analyze_all.py's mean cost, drop (cost > 12.5), performance ratio and Jain.
No decision here changes a later state: each state is scored by itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from offloadlab.scenarios.mec_queues.compact import parse_id
from offloadlab.scenarios.mec_queues.text import TextState, as_arrays

INVALID_ACTION_COST = 5.0  # the authors' cost of a server id that is not in the state
DROP_THRESHOLD = 12.5  # analyze_all.py: a task "drops" when its one-step cost exceeds this
LACS_WEIGHT = 0.3
LACS_STEPS = 3
LACS_ONLY_BELOW = 10.0  # LACS is computed only when the one-step cost is below this
Variant = Literal["grpo", "comllm"]
Answer = Literal["paper", "id"]  # the authors' decision name, or the bare id (one token)
# Format term of a usable id answer: the best the authors' format term gives (0.5 + 1 for a short answer
# with a decision keyword). With the grammar every id answer is well formed, so the term is constant and
# only the task term moves the advantages, as it does for the authors' well-formed answers.
ID_FORMAT_REWARD = 1.5


def _local_rate(state: TextState) -> float:
    return state.device_ghz * state.slot_s / state.density


def _server_costs(
    state: TextState, size: np.ndarray, ghz: np.ndarray, active: np.ndarray, queue: np.ndarray, net_wait: float
) -> np.ndarray:
    """[..., S] edge costs of tasks ``size`` [..., 1]: wait + upload + (queue + size) / shared rate."""
    return edge_costs(size, net_wait, ghz, active, queue, state.slot_s, state.density, state.upload_mbit_per_slot)


def edge_costs(
    size: np.ndarray,
    net_wait: np.ndarray | float,
    ghz: np.ndarray,
    active: np.ndarray,
    queue: np.ndarray,
    slot_s: float,
    density: float,
    upload: float,
) -> np.ndarray:
    """[..., S] edge costs in slots of tasks ``size`` [..., 1] with network waits [..., 1] at servers of
    ``ghz`` [S] with ``active`` tasks and ``queue`` Mbit [..., S]: wait + upload + (queue + size) / shared rate."""
    shared = (ghz * slot_s / (active + 1)) / density  # the new task joins: active + 1
    return net_wait + size / upload + queue / shared + size / shared


def comllm_costs(state: TextState) -> np.ndarray:
    """One-step cost in slots of [local, server 1, ..., server S]."""
    ghz, active, queue = as_arrays(state)
    local = state.local_wait_slots + state.task_mbit / _local_rate(state)
    edge = _server_costs(state, np.array([state.task_mbit]), ghz, active, queue, state.net_wait_slots)
    return np.concatenate([[local], edge])


def comllm_cost(state: TextState, action: int) -> float:
    """One-step cost of one action; a server id absent from the state costs 5.0, a negative id inf."""
    if action < 0:
        return float("inf")
    if action > len(state.servers):
        return INVALID_ACTION_COST
    return float(comllm_costs(state)[action])


def comllm_oracle(state: TextState) -> int:
    """The authors' label: the action of least one-step cost (ties to the lowest id)."""
    return int(np.argmin(comllm_costs(state)))


def lacs_impact(state: TextState, action: int, rng: np.random.Generator, steps: int = LACS_STEPS) -> float:
    """Mean best one-step cost of ``steps`` future tasks of size U[0.5, 1.5] x size after applying ``action``.

    The action changes a copy of the state: local adds its computation time to the local wait; a server
    gains the task in its queue and one active task (an absent server id changes nothing). Each future
    task takes the cheapest of local and every server (active + 1 again); the network wait is not
    advanced by the current upload, as in predict_multiturn_impact.
    """
    ghz, active, queue = as_arrays(state)
    local_rate = _local_rate(state)
    local_wait = state.local_wait_slots
    if action == 0:
        local_wait += state.task_mbit / local_rate
    elif 1 <= action <= len(state.servers):
        queue[action - 1] += state.task_mbit
        active[action - 1] += 1
    future = rng.uniform(state.task_mbit * 0.5, state.task_mbit * 1.5, size=(steps, 1))
    local = local_wait + future[:, 0] / local_rate
    edge = _server_costs(state, future, ghz, active, queue, state.net_wait_slots)
    best = np.minimum(local, edge.min(axis=1)) if edge.size else local
    return float(best.mean())


# -- answers and rewards ---------------------------------------------------------------------------

_SERVER_RE = re.compile(r"(?:边缘服务器|服务器|server)\s*(\d+)")


def parse_action(text: str) -> int | None:
    """An answer's action: a server number wins over "local" (mec_utils.parse_model_prediction); None if neither."""
    if not isinstance(text, str):
        return None
    clean = text.lower().strip()
    m = _SERVER_RE.search(clean)
    if m and int(m.group(1)) > 0:
        return int(m.group(1))
    if "本地" in clean or "local" in clean:
        return 0
    return None


def format_reward(text: str, variant: Variant) -> float:
    """Format term of an answer.

    Both scripts: empty -> -2; start at 0.5; -0.5 per forbidden keyword (json, {, }, ```, action_id,
    action_name); outside 4-30 characters -> -|len - 17| / 10; +1 if a decision keyword appears.
    grpo_new_7B.py: keywords "本地", "边缘", "local", "server" and the numbers "1".."20"; -2 without one.
    comllm_train.py: the same words without the numbers; -1 without one.
    """
    if not isinstance(text, str) or not text.strip():
        return -2.0
    clean = text.strip()
    low = clean.lower()
    reward = 0.5 - 0.5 * sum(k in low for k in ("json", "{", "}", "```", "action_id", "action_name"))
    if not 4 <= len(clean) <= 30:
        reward -= abs(len(clean) - (4 + 30) / 2) / 10.0
    words = ["本地", "边缘", "local", "server"]
    if variant == "grpo":
        words += [str(i) for i in range(1, 21)]
    if any(w in low for w in words):
        return reward + 1.0
    return reward - (2.0 if variant == "grpo" else 1.0)


def read_answer(text: str, state: TextState, answer: Answer = "paper") -> int | None:
    """The action of an answer in either format (None: unusable)."""
    return parse_action(text) if answer == "paper" else parse_id(text, len(state.servers))


def task_reward(
    text: str,
    state: TextState,
    variant: Variant,
    rng: np.random.Generator,
    lacs_weight: float = LACS_WEIGHT,
    answer: Answer = "paper",
) -> float:
    """Task term: -10 if unparseable, else 1 - C (a further -10 if C > 10); C = one-step cost, plus
    ``lacs_weight`` x LACS in the "comllm" variant when the one-step cost is below 10."""
    action = read_answer(text, state, answer)
    if action is None:
        return -10.0
    cost = comllm_cost(state, action)
    if variant == "comllm" and cost < LACS_ONLY_BELOW:
        cost += lacs_weight * lacs_impact(state, action, rng)
    return 1.0 - cost - (10.0 if cost > 10.0 else 0.0)


def reward(
    text: str,
    state: TextState | None,
    variant: Variant,
    rng: np.random.Generator,
    lacs_weight: float = LACS_WEIGHT,
    answer: Answer = "paper",
) -> float:
    """The authors' GRPO reward 0.8 x task + 0.2 x format; -10 when the prompt's state cannot be read.
    For an id answer the format term is ``ID_FORMAT_REWARD`` when usable, the authors' -2 when not."""
    if state is None:
        return -10.0
    if answer == "id":
        fmt = ID_FORMAT_REWARD if read_answer(text, state, "id") is not None else -2.0
    else:
        fmt = format_reward(text, variant)
    return 0.8 * task_reward(text, state, variant, rng, lacs_weight, answer) + 0.2 * fmt


# -- open-loop metrics -----------------------------------------------------------------------------


def jain(x: np.ndarray) -> float:
    """Jain's fairness index (sum x)^2 / (n sum x^2) of a vector; nan when all zero or empty."""
    x = np.asarray(x, dtype=float)
    sq = float((x**2).sum())
    return float(x.sum() ** 2 / (x.size * sq)) if x.size and sq > 0 else float("nan")


def open_loop_metrics(
    costs: Sequence[float], oracle_costs: Sequence[float], actions: Sequence[int | None], servers: int
) -> dict[str, float]:
    """analyze_all.py's metrics of one method over a test set of states, plus Jain with n = servers.

    Rows whose cost is infinite (parse failures) are removed; mean cost in slots; drop rate = % of costs
    above 12.5; performance ratio = mean oracle cost / mean cost x 100; Jain (%) over how often each
    server was chosen, with n = the highest id chosen (the authors') or n = ``servers``.
    """
    cost = np.asarray(costs, dtype=float)
    ok = np.isfinite(cost)
    acts = np.array([-1 if a is None else a for a in actions])[ok]
    mean = float(cost[ok].mean()) if ok.any() else float("nan")
    oracle = np.asarray(oracle_costs, dtype=float)
    oracle_mean = float(oracle[np.isfinite(oracle)].mean()) if np.isfinite(oracle).any() else float("nan")
    chosen = acts[acts > 0]
    top = int(chosen.max()) if chosen.size else 0
    counts = np.bincount(chosen - 1, minlength=max(top, servers)) if chosen.size else np.zeros(servers)
    return {
        "samples": float(cost.size),
        "parse_failures": float((~ok).sum()),
        "mean_cost_slots": mean,
        "drop_rate_pct": float((cost[ok] > DROP_THRESHOLD).mean() * 100) if ok.any() else float("nan"),
        "performance_ratio_pct": oracle_mean / mean * 100 if mean > 0 else float("nan"),
        "jain_max_id_pct": jain(counts[:top]) * 100 if top else float("nan"),
        "jain_servers_pct": jain(counts[:servers]) * 100 if chosen.size else float("nan"),
    }
