"""A straightforward per-task re-implementation of fog_env.py's rules (Tang & Wong), as a test oracle.

Written from the rules, one device and one server at a time with Python deques; it keeps
fog_env.py's bookkeeping (elapsed slots for tasks left at the end, the upload-estimate bug behind
``tran_bug``) so that tests can state exactly where the vectorised simulator differs.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np


class FogReference:
    """Per-task loop over devices and servers, fog_env.py's order of operations."""

    def __init__(
        self,
        n_dev: int,
        server_ghz: list[float],
        arrivals: np.ndarray,
        deadline: int,
        device_ghz: float = 2.5,
        uplink_mbps: float = 14.0,
        density: float = 0.297,
        slot_s: float = 0.1,
        tran_bug: bool = False,
    ):
        self.n_dev, self.n_srv, self.D = n_dev, len(server_ghz), deadline
        self.arr = arrivals
        self.n_time = arrivals.shape[0]
        self.cap_local = device_ghz * slot_s
        self.cap_srv = [g * slot_s for g in server_ghz]
        self.cap_up = uplink_mbps * slot_s
        self.density = density
        self.tran_bug = tran_bug
        self.q_local = [deque() for _ in range(n_dev)]
        self.q_tx = [deque() for _ in range(n_dev)]
        self.q_srv = [[deque() for _ in range(self.n_srv)] for _ in range(n_dev)]
        self.on_local = [None] * n_dev  # [arrival, remain]
        self.on_tx = [None] * n_dev  # [arrival, remain, server]
        self.on_srv = [[None] * self.n_srv for _ in range(n_dev)]
        self.m = [0] * self.n_srv
        self.delay = np.zeros((self.n_time, n_dev))
        self.unfinished = np.zeros((self.n_time, n_dev), dtype=bool)
        self.t_comp = [-1.0] * n_dev
        self.t_tran = [-1.0] * n_dev
        self.b_srv = np.zeros((n_dev, self.n_srv))
        self.t = 0

    def _mark(self, arrival: int, dev: int, delay: float, unfinished: bool) -> None:
        self.delay[arrival, dev] = delay
        self.unfinished[arrival, dev] = unfinished

    def _take(self, q: deque, dev: int):
        """Pop until a task that is not yet too old; too-old tasks are dropped."""
        while q:
            task = q.popleft()
            if self.t - task[0] + 1 <= self.D:
                return task
            self._mark(task[0], dev, self.D, True)
        return None

    def step(self, actions: list[int]) -> None:
        """One slot of fog_env.py's step with per-device actions (0 local, s = server s)."""
        t = self.t
        for d in range(self.n_dev):
            size = self.arr[t, d]
            if size > 0 and actions[d] == 0:
                self.q_local[d].append((t, size))
            if self.on_local[d] is None:
                task = self._take(self.q_local[d], d)
                if task is not None:
                    self.on_local[d] = [task[0], task[1]]
            job = self.on_local[d]
            if job is not None:
                job[1] -= self.cap_local / self.density
                if job[1] <= 0:
                    self._mark(job[0], d, t - job[0] + 1, False)
                    self.on_local[d] = None
                elif t - job[0] + 1 == self.D:
                    self._mark(job[0], d, self.D, True)
                    self.on_local[d] = None
            if size > 0:
                local = 1 if actions[d] == 0 else 0
                start = max(self.t_comp[d] + 1, t)
                self.t_comp[d] = min(
                    start + math.ceil(size * local / (self.cap_local / self.density)) - 1, t + self.D - 1
                )
        for d in range(self.n_dev):
            for s in range(self.n_srv):
                if self.on_srv[d][s] is None:
                    task = self._take(self.q_srv[d][s], d)
                    if task is not None:
                        self.on_srv[d][s] = [task[0], task[1]]
                dropped_left = 0.0
                job = self.on_srv[d][s]
                if job is not None:
                    job[1] -= self.cap_srv[s] / self.density / self.m[s]
                    if job[1] <= 0:
                        self._mark(job[0], d, t - job[0] + 1, False)
                        self.on_srv[d][s] = None
                    elif t - job[0] + 1 == self.D:
                        self._mark(job[0], d, self.D, True)
                        dropped_left = job[1]
                        self.on_srv[d][s] = None
                if self.m[s] != 0:
                    self.b_srv[d, s] = max(
                        self.b_srv[d, s] - self.cap_srv[s] / self.density / self.m[s] - dropped_left, 0.0
                    )
        for d in range(self.n_dev):
            size = self.arr[t, d]
            if size > 0 and actions[d] > 0:
                self.q_tx[d].append((t, size, actions[d] - 1))
            if self.on_tx[d] is None:
                task = self._take(self.q_tx[d], d)
                if task is not None:
                    self.on_tx[d] = [task[0], task[1], task[2]]
            job = self.on_tx[d]
            if job is not None:
                job[1] -= self.cap_up
                if job[1] <= 0:
                    self.q_srv[d][job[2]].append((job[0], self.arr[job[0], d]))
                    self.b_srv[d, job[2]] += self.arr[job[0], d]
                    self.on_tx[d] = None
                elif t - job[0] + 1 == self.D:
                    self._mark(job[0], d, self.D, True)
                    self.on_tx[d] = None
            if size > 0:
                off = 0 if actions[d] == 0 else 1
                start = max(self.t_tran[d] + 1, t)
                est = min(start + math.ceil(size * off / self.cap_up) - 1, t + self.D - 1)
                if self.tran_bug:  # fog_env.py writes the upload estimate into t_iot_comp
                    self.t_comp[d] = est
                else:
                    self.t_tran[d] = est
        self.m_used = list(self.m)
        self.m = [
            sum(1 for d in range(self.n_dev) if self.q_srv[d][s] or self.on_srv[d][s] is not None)
            for s in range(self.n_srv)
        ]
        self.t += 1
        if self.t >= self.n_time:
            for tt in range(self.n_time):
                for d in range(self.n_dev):
                    if self.delay[tt, d] == 0 and self.arr[tt, d] > 0:
                        self._mark(tt, d, (self.t - 1) - tt + 1, True)

    def run(self, actions: np.ndarray) -> None:
        """Play every slot with actions [n_time, n_dev]."""
        while self.t < self.n_time:
            self.step([int(a) for a in actions[self.t]])
