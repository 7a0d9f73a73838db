"""The online round driver shared by every leo-inference method: each round (``round_s``) a policy sees the
round's tasks and Q_o (tasks still on each container, see ``scenarios.leo_inference.online``) and decides."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.online import OnlineState, room


@dataclass(frozen=True)
class RoundProblem:
    """One round of eq. (8): candidate tasks with benefits b [n], their satellites [n], Q_o [O] (busy slots),
    task slots ``slots`` per container (one number, or one per container) and slots per task d [n]
    (``demand``; one each when not given)."""

    tasks: np.ndarray
    benefit: np.ndarray
    sats: np.ndarray
    q: np.ndarray
    servers: int
    per_server: int
    slots: int | np.ndarray
    p: float
    task_slots: np.ndarray | None = None

    @property
    def demand(self) -> np.ndarray:
        """Slots each task needs, d [n]."""
        return np.ones(self.tasks.size) if self.task_slots is None else np.asarray(self.task_slots, float)

    @property
    def slot_array(self) -> np.ndarray:
        """Task slots of each container [O]."""
        return np.broadcast_to(np.asarray(self.slots, float), self.q.shape).astype(float)

    @property
    def capacity(self) -> np.ndarray:
        """Slots each container may still fill this round in the relaxation: p slots_o - Q_o [O]."""
        return self.p * self.slot_array - self.q

    @property
    def cluster_capacity(self) -> float:
        """Slots the cluster may still fill: p sum slots - Q_S."""
        return float(self.p * self.slot_array.sum() - self.q.sum())

    @property
    def room(self) -> np.ndarray:
        """Slots each container may still fill this round: floor(p slots - Q_o), at least 0 [O]."""
        return room(self.q, self.slot_array, self.p)[0]

    @property
    def cluster_room(self) -> float:
        """Slots the cluster may still fill: floor(p O slots - Q_S), at least 0."""
        return room(self.q, self.slot_array, self.p)[1]


@dataclass
class RoundLog:
    """What a policy reports per round: messages per layer and solver details."""

    messages: dict[str, int] = field(
        default_factory=lambda: {"satellite-LBS": 0, "LBS-server": 0, "server-container": 0}
    )
    iterations: list[int] = field(default_factory=list)
    held_for_window: int = 0
    extra: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """Append one per-round value under ``key``."""
        self.extra.setdefault(key, []).append(float(value))


Policy = Callable[[RoundProblem, RoundLog], np.ndarray]  # -> container per candidate task, -1 = local


def run_rounds(model: Model, policy: Policy, candidates: np.ndarray | None = None) -> tuple[np.ndarray, RoundLog]:
    """Targets [N] (-1 local, else container) from a per-round policy over the whole horizon.

    ``candidates`` masks the tasks a policy may offload (default: reachable tasks with a positive benefit).
    """
    p = model.p
    cand = (model.reachable & (model.benefit > 0)) if candidates is None else candidates
    state = OnlineState(model, cand)
    log = RoundLog()
    for r, idx in state.rounds:
        rp = RoundProblem(
            idx,
            model.benefit[idx],
            model.inst.task_sat[idx],
            state.queue_at(r),
            p.servers,
            p.containers_per_server,
            np.asarray(p.slots_per_container),
            p.load_threshold,
            model.inst.task_slots[idx],
        )
        state.commit(idx, policy(rp, log))
    log.held_for_window = state.held
    return state.target, log


def least_loaded(load: np.ndarray, allowed: np.ndarray | None = None) -> int:
    """Index of the least-loaded container among the allowed ones (-1 if none)."""
    score = np.where(allowed if allowed is not None else True, load, np.inf)
    j = int(np.argmin(score))
    return j if np.isfinite(score[j]) else -1


def greedy_assign(rp: RoundProblem, order: np.ndarray, prefer: np.ndarray | None = None) -> np.ndarray:
    """Assign tasks in ``order`` to a container with room for them (``prefer`` [n, O] ranks containers, default
    the least loaded), respecting every container's and the cluster's room; the rest stay local."""
    room, cluster = rp.room.copy(), rp.cluster_room
    load = rp.q / rp.slot_array
    d = rp.demand
    out = np.full(rp.tasks.size, -1)
    for n in order:
        ok = room >= d[n] - 1e-9
        if cluster < d[n] - 1e-9 or not ok.any():
            continue  # a smaller task later in the order may still fit
        j = int(np.argmax(np.where(ok, prefer[n], -np.inf))) if prefer is not None else least_loaded(load, ok)
        out[n], room[j], cluster = j, room[j] - d[n], cluster - d[n]
        load[j] += d[n] / rp.slot_array[j]
    return out
