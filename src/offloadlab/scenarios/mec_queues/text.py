"""COMLLM's text state in English: the authors' fields, one line per server, any server count.

Field order and content follow the authors' README example (task size, max delay, local wait, network
wait, upload rate, slot length, drop penalty, local device, then "Edge server k" lines with type, GHz,
cycles per bit, active tasks, total queue and the last 10 slots of load). The state is built from the
simulator: waits from Tang & Wong's trackers (slots until the local CPU / uplink is free), active tasks
= devices with work on the server (the count the coming slot is served with), total queue = exact Mbit
left at the server, load history = the counts of the last 10 slots, oldest first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.mec_queues.params import HISTORY_SLOTS, MecQueuesParams
from offloadlab.scenarios.mec_queues.sim import QueueSim

DROP_PENALTY = 100  # printed in the authors' state ("丢弃惩罚": 100); no formula uses it
INPUT_MARKER = "**Input data**:"
LOCAL_NAME = "Execute locally"

INSTRUCTION = (
    "You are an MEC task-offloading agent. Your goal is to choose the best offloading decision for the newly "
    "arrived task, minimising its total processing delay while avoiding a drop (the total delay must not exceed "
    "the maximum tolerated delay). A task whose delay exceeds the maximum is dropped and costs a constant "
    "penalty.\n\nHow to decide:\nEstimate the total delay of every action (local execution; offloading to each "
    "edge server) and choose the action with the lowest delay that does not exceed the maximum delay.\n"
    "1. Local delay = local CPU queue wait + local computation time.\n"
    "    - Local computation time depends on the task size, its computation density (cycles per bit) and the "
    "local CPU frequency.\n"
    "    - Local CPU queue wait depends on when the tasks already in the local queue finish.\n"
    "2. Edge delay = network queue wait + transmission time + edge server queue wait + edge execution time.\n"
    "    - Transmission time depends on the task size and the upload rate.\n"
    "    - Edge server queue wait depends on the total queue length on the server, the computation density and "
    "the server capacity shared among all active tasks.\n"
    "    - Edge execution time depends on the task size, the computation density and the shared server "
    "capacity.\n"
    "    - Active tasks is the number of tasks the server is processing concurrently; when estimating, assume "
    "it grows by 1 once the new task joins.\n"
    "3. Load history: use the active-task counts of the last 10 slots to understand each server's load trend.\n"
    "Analyse the input data below, choose the decision with the lowest total delay that does not exceed the "
    "maximum delay, and output only the decision name."
)
SYSTEM_PROMPT = (
    "You are an MEC task-offloading expert. Analyse the input data strictly as instructed and output "
    "the offloading decision. Do not include any explanation, code-block markers or extra text."
)


@dataclass(frozen=True)
class ServerView:
    """One edge server as the text state shows it."""

    id: int  # 1-based
    type: str
    ghz: float
    active: int
    queue_mbit: float
    history: tuple[float, ...]


@dataclass(frozen=True)
class TextState:
    """The decision-time state of one arriving task, in the authors' units (slots, Mbit, GHz)."""

    task_mbit: float
    max_delay_slots: int
    local_wait_slots: float
    net_wait_slots: float
    upload_mbit_per_slot: float
    slot_s: float
    device_ghz: float
    cycles_per_bit: float
    uplink_mbps: float
    servers: tuple[ServerView, ...]

    @property
    def density(self) -> float:
        """Gcycles per Mbit, as the authors derive it (cycles per bit / 1000)."""
        return self.cycles_per_bit / 1000.0


def action_name(action: int) -> str:
    """The decision string of an action: 0 local, s = server s."""
    return LOCAL_NAME if action == 0 else f"Offload to edge server {action}"


def observe(sim: QueueSim, b: int, d: int, queue: np.ndarray | None = None) -> TextState:
    """The text state of the task arriving at device d in the current slot of copy b (before deciding);
    ``queue`` [S] = Mbit left at each server, computed from ``sim`` when not given."""
    p, t = sim.p, sim.t
    queue = sim.server_backlog_mbit()[b].sum(axis=0) if queue is None else queue
    servers = tuple(
        ServerView(
            s + 1,
            p.server_type[s],
            p.server_ghz[s],
            int(sim.m[b, s]),
            round(float(queue[s]), 4),
            tuple(float(x) for x in sim.load_hist[b, :, s]),
        )
        for s in range(p.servers)
    )
    return TextState(
        task_mbit=round(float(sim.arr[b, t, d]), 4),
        max_delay_slots=p.deadline_slots,
        local_wait_slots=float(max(sim.t_comp[b, d] - t + 1, 0)),
        net_wait_slots=float(max(sim.t_tran[b, d] - t + 1, 0)),
        upload_mbit_per_slot=round(p.upload_mbit, 4),
        slot_s=p.slot_s,
        device_ghz=p.device_ghz,
        cycles_per_bit=round(p.density_gcycles_per_mbit * 1000.0, 4),
        uplink_mbps=p.uplink_mbps,
        servers=servers,
    )


def state_from_params(
    params: MecQueuesParams,
    task_mbit: float,
    local_wait: float,
    net_wait: float,
    active: list[int],
    queue_mbit: list[float],
    history: list[list[float]] | None = None,
) -> TextState:
    """A text state from explicit values (tests, open-loop test sets); history [S][10], zeros if omitted."""
    hist = history or [[0.0] * HISTORY_SLOTS for _ in range(params.servers)]
    servers = tuple(
        ServerView(
            s + 1,
            params.server_type[s],
            params.server_ghz[s],
            int(active[s]),
            float(queue_mbit[s]),
            tuple(float(x) for x in hist[s]),
        )
        for s in range(params.servers)
    )
    return TextState(
        task_mbit,
        params.deadline_slots,
        local_wait,
        net_wait,
        round(params.upload_mbit, 4),
        params.slot_s,
        params.device_ghz,
        round(params.density_gcycles_per_mbit * 1000.0, 4),
        params.uplink_mbps,
        servers,
    )


def format_input(state: TextState) -> dict[str, Any]:
    """The authors' "input" record in English: field -> text, one "Edge server k" entry per server."""
    out: dict[str, Any] = {
        "Task size": f"{state.task_mbit:.4f} Mbits",
        "Max delay": f"{state.max_delay_slots} slots",
        "Local CPU queue wait": f"{state.local_wait_slots:.4f} slots",
        "Network queue wait": f"{state.net_wait_slots:.4f} slots",
        "Upload rate": f"{state.upload_mbit_per_slot:.4f} Mbits/slot",
        "Slot length": f"{state.slot_s} s",
        "Drop penalty": DROP_PENALTY,
        "Local device": f"type mobile device, CPU {state.device_ghz} GHz, cycles per bit {state.cycles_per_bit}, "
        f"uplink {state.uplink_mbps} Mbps",
    }
    for s in state.servers:
        out[f"Edge server {s.id}"] = (
            f"type {s.type}, CPU {s.ghz} GHz, cycles per bit {state.cycles_per_bit}, active tasks {s.active}, "
            f"total queue {s.queue_mbit:.4f} Mbits, load over the last {len(s.history)} slots: {list(s.history)}"
        )
    return out


def format_lines(record_input: Mapping[str, Any]) -> str:
    """The input record as "key: value" lines (the authors' prompt body)."""
    return "\n".join(f"{k}: {json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in record_input.items())


def user_prompt(state: TextState) -> str:
    """Instruction, marker and the state lines: the user message of the authors' chat prompt."""
    return f"{INSTRUCTION}\n\n{INPUT_MARKER}\n{format_lines(format_input(state))}"


_NUM = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"


def _num(text: str, pattern: str, field: str) -> float:
    m = re.search(pattern.replace("NUM", _NUM), text)
    if not m:
        raise InputError(f"state.{field}", f"cannot read a number from {text!r}")
    return float(m.group(1))


def parse_input(record_input: Mapping[str, Any] | str) -> TextState:
    """Read a state back from its input record or its "key: value" lines (after the input marker if any)."""
    if isinstance(record_input, str):
        body = record_input.split(INPUT_MARKER, 1)[-1]
        record_input = dict(line.split(":", 1) for line in body.strip().splitlines() if ":" in line)
        record_input = {k.strip(): v.strip() for k, v in record_input.items()}
    fields = {str(k): str(v) for k, v in record_input.items()}

    def get(key: str) -> str:
        if key not in fields:
            raise InputError(f"state.{key}", "missing")
        return fields[key]

    ids = sorted(int(m.group(1)) for k in fields if (m := re.fullmatch(r"Edge server (\d+)", k)))
    servers = []
    for i in ids:
        line = fields[f"Edge server {i}"]
        hist = re.search(r"slots:\s*\[([^\]]*)\]", line)
        servers.append(
            ServerView(
                i,
                kind.group(1) if (kind := re.search(r"type ([^,]+),", line)) else "",
                _num(line, r"CPU NUM GHz", f"server {i} GHz"),
                int(_num(line, r"active tasks NUM", f"server {i} active")),
                _num(line, r"total queue NUM", f"server {i} queue"),
                tuple(float(x) for x in hist.group(1).split(",") if x.strip()) if hist else (),
            )
        )
    device = get("Local device")
    return TextState(
        task_mbit=_num(get("Task size"), "NUM", "Task size"),
        max_delay_slots=int(_num(get("Max delay"), "NUM", "Max delay")),
        local_wait_slots=_num(get("Local CPU queue wait"), "NUM", "Local CPU queue wait"),
        net_wait_slots=_num(get("Network queue wait"), "NUM", "Network queue wait"),
        upload_mbit_per_slot=_num(get("Upload rate"), "NUM", "Upload rate"),
        slot_s=_num(get("Slot length"), "NUM", "Slot length"),
        device_ghz=_num(device, r"CPU NUM GHz", "Local device"),
        cycles_per_bit=_num(device, r"cycles per bit NUM", "Local device"),
        uplink_mbps=_num(device, r"uplink NUM", "Local device"),
        servers=tuple(servers),
    )


def as_arrays(state: TextState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Server GHz, active tasks and queue Mbit as arrays [S]."""
    ghz = np.array([s.ghz for s in state.servers], dtype=float)
    active = np.array([s.active for s in state.servers], dtype=float)
    queue = np.array([s.queue_mbit for s in state.servers], dtype=float)
    return ghz, active, queue
