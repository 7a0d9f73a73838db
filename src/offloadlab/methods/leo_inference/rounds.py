"""The online round driver shared by every leo-inference method.

Each round (``round_s``) the scheduler sees the round's tasks and the number of tasks Q_o still on each
container (queued, running or on their way), and decides. The driver keeps Q exact for feasible schedules:
a task's completion is its uplink departure (FIFO per satellite) plus c(m_e) (with every round's load <= p
no task waits for a container slot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from offloadlab.scenarios.leo_inference.model import Model


@dataclass(frozen=True)
class RoundProblem:
    """One round of eq. (8): candidate tasks with benefits b [n], their satellites [n], and Q_o [O]."""

    tasks: np.ndarray
    benefit: np.ndarray
    sats: np.ndarray
    q: np.ndarray
    servers: int
    per_server: int
    slots: int
    p: float

    @property
    def room(self) -> np.ndarray:
        """Tasks each container may still take this round: floor(p slots - Q_o), at least 0 [O]."""
        return np.maximum(np.floor(self.p * self.slots - self.q + 1e-9), 0.0)

    @property
    def cluster_room(self) -> float:
        """Tasks the cluster may still take: floor(p O slots - Q_S), at least 0."""
        return max(float(np.floor(self.p * self.slots * self.q.size - self.q.sum() + 1e-9)), 0.0)


@dataclass
class RoundLog:
    """What a policy reports per round: messages per layer and solver details."""

    messages: dict[str, int] = field(default_factory=lambda: {"satellite-LBS": 0, "LBS-server": 0,
                                                              "server-container": 0})
    iterations: list[int] = field(default_factory=list)
    extra: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, value: float) -> None:
        """Append one per-round value under ``key``."""
        self.extra.setdefault(key, []).append(float(value))


Policy = Callable[[RoundProblem, RoundLog], np.ndarray]  # -> container per candidate task, -1 = local


def run_rounds(model: Model, policy: Policy, candidates: np.ndarray | None = None) -> tuple[np.ndarray, RoundLog]:
    """Targets [N] (-1 local, else container) from a per-round policy over the whole horizon.

    ``candidates`` masks the tasks a policy may offload (default: reachable tasks with a positive benefit).
    """
    inst, p = model.inst, model.p
    cand = (model.reachable & (model.benefit > 0)) if candidates is None else candidates
    target = np.full(inst.n_tasks, -1)
    log = RoundLog()
    uplink_free = np.zeros(p.satellites)
    pre = np.repeat(np.arange(p.containers), inst.initial_queue)
    done_o, done_t = [pre], [np.full(pre.size, p.server_task_s)]
    rounds = model.round_index
    order = np.flatnonzero(cand)
    bounds = np.searchsorted(rounds[order], np.arange(model.n_rounds + 1))
    for r in np.flatnonzero(np.diff(bounds)):
        idx = order[bounds[r]:bounds[r + 1]]
        t0 = r * p.round_s
        allo, allt = np.concatenate(done_o), np.concatenate(done_t)
        q = np.bincount(allo[allt > t0], minlength=p.containers).astype(float)
        rp = RoundProblem(idx, model.benefit[idx], inst.task_sat[idx], q, p.servers, p.containers_per_server,
                          p.container_slots, p.load_threshold)
        choice = policy(rp, log)
        off = idx[choice >= 0]
        target[off] = choice[choice >= 0]
        fin = np.empty(off.size)
        for k, n in enumerate(off):  # uplink FIFO per satellite, in arrival order (few tasks per round)
            s = inst.task_sat[n]
            uplink_free[s] = max(uplink_free[s], inst.task_t[n]) + model.paths.up_s[n]
            fin[k] = uplink_free[s] + p.server_task_s
        done_o.append(target[off])
        done_t.append(fin)
    return target, log


def least_loaded(load: np.ndarray, allowed: np.ndarray | None = None) -> int:
    """Index of the least-loaded container among the allowed ones (-1 if none)."""
    score = np.where(allowed if allowed is not None else True, load, np.inf)
    j = int(np.argmin(score))
    return j if np.isfinite(score[j]) else -1


def greedy_assign(rp: RoundProblem, order: np.ndarray, prefer: np.ndarray | None = None) -> np.ndarray:
    """Assign tasks in ``order`` to a container with room (``prefer`` [n, O] ranks containers, default the
    least loaded), respecting every container's and the cluster's room; the rest stay local."""
    room, cluster = rp.room.copy(), rp.cluster_room
    load = rp.q.copy()
    out = np.full(rp.tasks.size, -1)
    for n in order:
        if cluster < 1:
            break
        ok = room >= 1
        if not ok.any():
            break
        j = int(np.argmax(np.where(ok, prefer[n], -np.inf))) if prefer is not None else least_loaded(load, ok)
        out[n], room[j], load[j], cluster = j, room[j] - 1, load[j] + 1, cluster - 1
    return out
