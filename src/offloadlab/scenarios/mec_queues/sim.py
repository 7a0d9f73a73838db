"""Vectorised slot simulator with Tang & Wong's semantics (fog_env.py), batched over B copies.

Each slot, in fog_env.py's order: (1) local computation queues (a new local task joins first),
(2) server queues of every (device, server) pair, whose capacity is shared equally among the devices
that had work on the server at the end of the previous slot, (3) transmission queues (a new offloaded
task joins; an upload that finishes enters the server queue and is processed from the next slot),
(4) the per-server count of devices with work, used in the next slot. Every queue is FIFO, one task per
queue is served per slot (capacity left over when a task finishes is not passed on), a task whose age
``t - arrival + 1`` exceeds D when it reaches the head of a queue is dropped there, and a task still
unfinished when its age reaches D is dropped. Delay = completion slot - arrival slot + 1; a dropped
task counts D. A task unfinished when the horizon ends is dropped too (counted D; fog_env.py records
the elapsed slots instead, which only differs when drain_slots < D - 1).

Tasks are named by (copy b, arrival slot t, device d): queues hold arrival slots, sizes are looked up.
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass

import numpy as np

from offloadlab.scenarios.mec_queues.params import HISTORY_SLOTS, MecQueuesParams


@dataclass
class Fifo:
    """N FIFO queues of task arrival slots with the task in service at the head of each."""

    buf: np.ndarray  # [N, capacity] arrival slots
    head: np.ndarray  # [N] index of the next task to take
    tail: np.ndarray  # [N] index where the next task is put
    cur: np.ndarray  # [N] arrival slot of the task in service, -1 when idle
    rem: np.ndarray  # [N] Mbit left of the task in service, NaN when idle
    qsum: np.ndarray  # [N] Mbit of the tasks waiting behind the head

    @classmethod
    def empty(cls, n: int, capacity: int) -> Fifo:
        """N empty queues holding up to ``capacity`` tasks each."""
        return cls(
            np.zeros((n, capacity), dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            np.full(n, np.nan),
            np.zeros(n),
        )

    def push(self, rows: np.ndarray, slots: np.ndarray, sizes: np.ndarray) -> None:
        """Append task ``slots[i]`` of ``sizes[i]`` Mbit to queue ``rows[i]`` (rows distinct)."""
        self.buf[rows, self.tail[rows]] = slots
        self.tail[rows] += 1
        self.qsum[rows] += sizes

    def backlog(self) -> np.ndarray:
        """[N] Mbit left: waiting tasks plus the rest of the task in service."""
        return self.qsum + np.where(self.busy(), self.rem, 0.0)

    def waiting(self) -> np.ndarray:
        """[N] number of tasks queued behind the head."""
        return self.tail - self.head

    def busy(self) -> np.ndarray:
        """[N] whether a task is in service (fog_env.py's ``remain > 0``)."""
        return self.rem > 0


# per-copy arrays (leading dim B) copied by QueueSim.tile
_PER_COPY = ("arr", "action", "delay", "dropped", "m", "m_used", "load_hist", "work", "t_comp", "t_tran", "b_srv")
_PER_ROW = ("tx_dest",)  # arrays whose leading dim is B * D, copy-major


class QueueSim:
    """B independent copies of the system, stepped together; every array is vectorised over copies,
    devices and servers."""

    def __init__(self, params: MecQueuesParams, arrivals: np.ndarray):
        """Start B copies at slot 0; ``arrivals`` is [T, D] (one copy) or [B, T, D], Mbit, 0 = no task."""
        p = params
        arr = np.asarray(arrivals, dtype=float)
        if arr.ndim == 2:
            arr = arr[None]
        self.p = p
        self.B, T, self.D = arr.shape
        self.S, self.H, self.Dl = p.servers, T + p.drain_slots, p.deadline_slots
        self.arr = np.zeros((self.B, self.H, self.D))
        self.arr[:, :T] = arr
        self.t = 0
        shape = (self.B, self.H, self.D)
        self.action = np.full(shape, -1, dtype=np.int64)
        self.delay = np.full(shape, np.nan)
        self.dropped = np.zeros(shape, dtype=bool)
        n_bd = self.B * self.D
        self.local = Fifo.empty(n_bd, T)
        self.tx = Fifo.empty(n_bd, T)
        self.srv = Fifo.empty(n_bd * self.S, T)
        # owners of the flat queues: copy and device of each row
        self._b_bd, self._d_bd = np.divmod(np.arange(n_bd), self.D)
        self._b_bds, rest = np.divmod(np.arange(n_bd * self.S), self.D * self.S)
        self._d_bds, self._s_bds = np.divmod(rest, self.S)
        self.cap_local = p.local_rate_mbit
        self.cap_up = p.upload_mbit
        # server capacity in fog_env.py's order: (GHz * slot) / density, then / devices sharing
        self.cap_srv = np.asarray(p.server_ghz) * p.slot_s / p.density_gcycles_per_mbit
        self.m = np.zeros((self.B, self.S))  # devices with work per server at the end of the last slot
        self.m_used = np.zeros((self.B, self.S))  # the count the last slot was served with
        self.load_hist = np.zeros((self.B, HISTORY_SLOTS, self.S))  # m_used of the last 10 slots, oldest first
        self.work = np.zeros((self.B, self.S))  # Mbit each server has processed
        # Tang & Wong's observation trackers: last busy slot of the local CPU and of the uplink,
        # Mbit backlog of each (device, server) pair
        self.t_comp = -np.ones((self.B, self.D))
        self.t_tran = -np.ones((self.B, self.D))
        self.b_srv = np.zeros((self.B, self.D, self.S))
        self.tx_dest = np.zeros((self.B * self.D, self.S))  # Mbit waiting to upload, by destination server

    @property
    def done(self) -> bool:
        """Whether the horizon is over."""
        return self.t >= self.H

    def copy(self) -> QueueSim:
        """An independent deep copy."""
        return _copy.deepcopy(self)

    def tile(self, k: int) -> QueueSim:
        """k copies of the state of every copy, e.g. one per candidate action: copy b's are b k, ..., b k + k - 1."""
        B = self.B
        out = QueueSim(self.p, np.repeat(self.arr[:, : self.H - self.p.drain_slots], k, axis=0))
        out.t = self.t
        for name in _PER_COPY:
            setattr(out, name, np.repeat(getattr(self, name), k, axis=0))

        def rows(a: np.ndarray) -> np.ndarray:  # flat rows are copy-major: repeat each copy's block of rows
            return np.repeat(a.reshape(B, -1, *a.shape[1:]), k, axis=0).reshape(-1, *a.shape[1:])

        for name in _PER_ROW:
            setattr(out, name, rows(getattr(self, name)))
        for name in ("local", "tx", "srv"):
            src = getattr(self, name)
            setattr(out, name, Fifo(*(rows(a) for a in (src.buf, src.head, src.tail, src.cur, src.rem, src.qsum))))
        return out

    # -- one slot ---------------------------------------------------------------------------------

    def step(self, actions: np.ndarray) -> None:
        """Advance one slot; ``actions`` [B, D] (or [D]): 0 local, s server s (1-based); ignored without a task."""
        t, B, D, S = self.t, self.B, self.D, self.S
        size = self.arr[:, t, :]
        has = size > 0
        act = np.where(has, np.broadcast_to(np.asarray(actions, dtype=np.int64), (B, D)), -1)
        self.action[:, t, :] = act
        flat_act = act.reshape(-1)
        rows = np.arange(B * D)
        slot = np.full(B * D, t)

        # (1) local computation
        flat_size = size.reshape(-1)
        new_local = flat_act == 0
        self.local.push(rows[new_local], slot[new_local], flat_size[new_local])
        self._pickup(self.local, self._b_bd, self._d_bd)
        self._serve(self.local, self._b_bd, self._d_bd, np.full(B * D, self.cap_local))
        is_local = (act == 0).astype(float)
        start = np.maximum(self.t_comp + 1, t)
        est = np.minimum(start + np.ceil(size * is_local / self.cap_local) - 1, t + self.Dl - 1)
        self.t_comp = np.where(has, est, self.t_comp)

        # (2) servers, shared among the devices counted at the end of the last slot
        share = np.divide(self.cap_srv[None, :], self.m, out=np.zeros((B, S)), where=self.m > 0)
        self._pickup(self.srv, self._b_bds, self._d_bds)
        rate = np.broadcast_to(share[:, None, :], (B, D, S)).reshape(-1)
        before = np.where(self.srv.busy(), self.srv.rem, 0.0)
        dropped_rem = self._serve(self.srv, self._b_bds, self._d_bds, rate)
        self.work += np.minimum(before, rate).reshape(B, D, S).sum(axis=1)
        backlog = self.b_srv - share[:, None, :] - dropped_rem.reshape(B, D, S)
        self.b_srv = np.where(self.m[:, None, :] != 0, np.maximum(backlog, 0.0), self.b_srv)

        # (3) transmission; a finished upload joins its server queue for the next slot
        new_tx = flat_act > 0
        self.tx.push(rows[new_tx], slot[new_tx], flat_size[new_tx])
        self.tx_dest[rows[new_tx], flat_act[new_tx] - 1] += flat_size[new_tx]
        taken, taken_slot = self._pickup(self.tx, self._b_bd, self._d_bd)
        taken_b, taken_d = self._b_bd[taken], self._d_bd[taken]
        np.subtract.at(
            self.tx_dest, (taken, self.action[taken_b, taken_slot, taken_d] - 1), self.arr[taken_b, taken_slot, taken_d]
        )
        finished = self._serve(self.tx, self._b_bd, self._d_bd, np.full(B * D, self.cap_up), forward=True)
        self._forward(finished)
        start = np.maximum(self.t_tran + 1, t)
        # fog_env.py ~line 332 writes this estimate into t_iot_comp (a bug); here it goes to t_tran
        est = np.minimum(start + np.ceil(size * (1.0 - is_local) / self.cap_up) - 1, t + self.Dl - 1)
        self.t_tran = np.where(has, est, self.t_tran)

        # (4) devices with work on each server, for the next slot
        work_on = (self.srv.waiting() > 0) | self.srv.busy()
        self.m_used = self.m
        self.m = work_on.reshape(B, D, S).sum(axis=1).astype(float)
        self.load_hist = np.concatenate([self.load_hist[:, 1:], self.m_used[:, None, :]], axis=1)
        self.t += 1
        if self.done:
            self._close()

    def _pickup(self, q: Fifo, own_b: np.ndarray, own_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Idle queues take their head task; tasks already older than D are dropped on the way.
        Returns the rows and arrival slots of every task taken off a queue."""
        t = self.t
        need = np.flatnonzero(np.isnan(q.rem) & (q.head < q.tail))
        rows_out, slots_out = [], []
        while need.size:
            slot = q.buf[need, q.head[need]]
            q.head[need] += 1
            b, d = own_b[need], own_d[need]
            q.qsum[need] -= self.arr[b, slot, d]
            rows_out.append(need)
            slots_out.append(slot)
            stale = t - slot + 1 > self.Dl
            self._drop(b[stale], slot[stale], d[stale])
            ok = need[~stale]
            q.cur[ok] = slot[~stale]
            q.rem[ok] = self.arr[b[~stale], slot[~stale], d[~stale]]
            need = need[stale]
            need = need[q.head[need] < q.tail[need]]
        if not rows_out:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows_out), np.concatenate(slots_out)

    def _serve(
        self, q: Fifo, own_b: np.ndarray, own_d: np.ndarray, rate: np.ndarray, forward: bool = False
    ) -> np.ndarray:
        """Serve each busy queue's task for one slot. Returns [N]: the Mbit left of tasks dropped at D
        (servers' backlog tracker), or with ``forward`` a mask of uploads that finished."""
        t = self.t
        busy = np.flatnonzero(q.busy())
        q.rem[busy] = q.rem[busy] - rate[busy]
        fin = busy[q.rem[busy] <= 0]
        late = busy[(q.rem[busy] > 0) & (t - q.cur[busy] + 1 == self.Dl)]
        out = np.zeros(q.rem.shape[0], dtype=bool if forward else float)
        if forward:
            out[fin] = True
        else:
            self.delay[own_b[fin], q.cur[fin], own_d[fin]] = t - q.cur[fin] + 1
            q.rem[fin] = np.nan
            q.cur[fin] = -1
        out_late = q.rem[late].copy()
        self._drop(own_b[late], q.cur[late], own_d[late])
        q.rem[late] = np.nan
        q.cur[late] = -1
        if not forward:
            out[late] = out_late
        return out

    def _forward(self, finished: np.ndarray) -> None:
        """Move finished uploads into their (device, server) queue."""
        rows = np.flatnonzero(finished)
        b, d = self._b_bd[rows], self._d_bd[rows]
        slot = self.tx.cur[rows]
        s = self.action[b, slot, d] - 1
        self.srv.push((b * self.D + d) * self.S + s, slot, self.arr[b, slot, d])
        self.b_srv[b, d, s] += self.arr[b, slot, d]
        self.tx.rem[rows] = np.nan
        self.tx.cur[rows] = -1

    def _drop(self, b: np.ndarray, slot: np.ndarray, d: np.ndarray) -> None:
        self.delay[b, slot, d] = self.Dl
        self.dropped[b, slot, d] = True

    def _close(self) -> None:
        """End of the horizon: tasks still unfinished are dropped."""
        left = (self.arr > 0) & np.isnan(self.delay)
        self.delay[left] = self.Dl
        self.dropped[left] = True

    # -- views ------------------------------------------------------------------------------------

    def run(self, actions: np.ndarray) -> None:
        """Play the remaining slots with fixed actions [B, T, D] or [T, D] (arrival slots only)."""
        acts = np.asarray(actions, dtype=np.int64)
        if acts.ndim == 2:
            acts = acts[None]
        T = self.H - self.p.drain_slots
        while not self.done:
            self.step(acts[:, self.t] if self.t < T else np.zeros((self.B, self.D), dtype=np.int64))

    def task_mask(self) -> np.ndarray:
        """[B, T, D] where a task arrived (arrival slots only)."""
        return self.arr[:, : self.H - self.p.drain_slots] > 0

    def local_backlog_mbit(self) -> np.ndarray:
        """[B, D] Mbit left in each device's local queue (task in service plus waiting tasks)."""
        return self.local.backlog().reshape(self.B, self.D)

    def server_backlog_mbit(self) -> np.ndarray:
        """[B, D, S] Mbit left of each device's tasks at each server (in service plus waiting)."""
        return self.srv.backlog().reshape(self.B, self.D, self.S)

    def upload_backlog_by_server(self) -> np.ndarray:
        """[B, S] Mbit still to upload (in service or waiting), by destination server."""
        out = self.tx_dest.reshape(self.B, self.D, self.S).sum(axis=1)
        busy = np.flatnonzero(self.tx.busy())
        b, d = self._b_bd[busy], self._d_bd[busy]
        np.add.at(out, (b, self.action[b, self.tx.cur[busy], d] - 1), self.tx.rem[busy])
        return out
