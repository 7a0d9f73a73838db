"""Online state shared by the round driver (methods) and the environments: the rounds that hold candidate
tasks, and Q_o at the start of each round, kept exact for feasible schedules (completion = uplink departure,
FIFO per satellite, plus c(m_e); with every round's load <= p no task waits for a container slot)."""

from __future__ import annotations

import numpy as np

from offloadlab.scenarios.leo_inference.model import Model


class OnlineState:
    """Walks the rounds that contain candidate tasks; records targets as they are decided."""

    def __init__(self, model: Model, candidates: np.ndarray):
        self.model = model
        p, inst = model.p, model.inst
        self.target = np.full(inst.n_tasks, -1)
        self.held = 0  # offloads a satellite kept on board because the result would miss the window
        self._uplink_free = np.zeros(p.satellites)
        pre = np.repeat(np.arange(p.containers), inst.initial_queue)  # one busy slot each
        self._done_o, self._done_t = [pre], [np.full(pre.size, p.server_task_s)]
        order = np.flatnonzero(candidates)
        bounds = np.searchsorted(model.round_index[order], np.arange(model.n_rounds + 1))
        self.rounds = [(int(r), order[bounds[r] : bounds[r + 1]]) for r in np.flatnonzero(np.diff(bounds))]

    def queue_at(self, r: int) -> np.ndarray:
        """Q_o [O]: slots of tasks decided before round r that are still on (or on their way to) each container."""
        allo, allt = np.concatenate(self._done_o), np.concatenate(self._done_t)
        return np.bincount(allo[allt > r * self.model.p.round_s], minlength=self.model.p.containers).astype(float)

    def commit(self, tasks: np.ndarray, choice: np.ndarray) -> None:
        """Record the round's decisions (``choice`` -1 local, else container) and their completion times.

        A satellite keeps on board a task whose result could not be back within its contact window behind
        the uploads already queued on its link (the window is part of Algorithm 4's path), so a schedule
        that respects the load limit never misses a window."""
        p, inst, paths = self.model.p, self.model.inst, self.model.paths
        sent, fin = [], []
        for n, o in zip(tasks, choice):  # uplink FIFO per satellite, in arrival order (a few tasks per round)
            if o < 0:
                continue
            s = inst.task_sat[n]
            free = max(self._uplink_free[s], inst.task_t[n]) + paths.up_s[n]
            if free + p.server_task_s + paths.back_s[n] > inst.task_t[n] + paths.window_s[n] + 1e-9:
                self.held += 1
                continue
            self._uplink_free[s] = free
            self.target[n] = o
            sent.append(n)
            fin.append(free + p.server_task_s)
        off = np.asarray(sent, dtype=int)
        units = inst.task_slots[off]  # a task of u slots holds u of its container's slots
        self._done_o.append(np.repeat(self.target[off], units))
        self._done_t.append(np.repeat(np.asarray(fin, float), units))


def room(q: np.ndarray, slots: int | np.ndarray, p: float) -> tuple[np.ndarray, float]:
    """Slots each container, and the cluster, may still fill in a round with busy slots Q (``slots`` per
    container: one number or one each): floor(p cap - Q) >= 0."""
    cap = np.broadcast_to(np.asarray(slots, float), q.shape)
    per = np.maximum(np.floor(p * cap - q + 1e-9), 0.0)
    cluster = max(float(np.floor(p * cap.sum() - q.sum() + 1e-9)), 0.0)
    return per, cluster
