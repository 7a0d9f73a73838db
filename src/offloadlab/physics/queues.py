"""Vectorised FIFO queues: departure times of many independent queues in one pass, no per-task loop.

Both recursions are max-plus linear, so they unroll into a cumulative maximum:
- one server, service times D_k: d_k = max(a_k, d_{k-1}) + D_k = C_k + max_{m<=k}(a_m - C_{m-1}), C = cumsum D;
- c identical servers, equal service time D: task k starts when task k - c leaves (FIFO with equal
  service times departs in arrival order), s_k = max(a_k, s_{k-c} + D), i.e. per residue chain
  j = k mod c at position n = k // c: s_n = n D + max_{m<=n}(a_m - m D).
Groups (queues) are separated by adding an increasing offset per group before the cumulative maximum.
"""

from __future__ import annotations

import numpy as np


def group_cummax(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative maximum restarted at each group; ``group`` must be sorted (non-decreasing)."""
    if values.size == 0:
        return values.astype(float)
    span = float(values.max() - values.min()) + 1.0
    dense = np.concatenate([[0], np.cumsum(group[1:] != group[:-1])])
    return np.maximum.accumulate(values + dense * span) - dense * span


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """Position of each element within its (contiguous) group."""
    n = group.size
    starts = np.concatenate([[True], group[1:] != group[:-1]]) if n else np.zeros(0, bool)
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - first


def fifo_single(queue: np.ndarray, arrival: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Departure times of tasks in single-server FIFO queues (ties in arrival keep input order)."""
    order = np.lexsort((np.arange(queue.size), arrival, queue))
    q, a, d = queue[order], arrival[order], service[order]
    c = np.cumsum(d)
    start_of_group = np.concatenate([[True], q[1:] != q[:-1]]) if q.size else np.zeros(0, bool)
    base = np.maximum.accumulate(np.where(start_of_group, np.arange(q.size), 0))
    c_local = c - (c[base] - d[base])  # cumsum restarted per queue
    out = np.empty(queue.size)
    out[order] = c_local + group_cummax(a - (c_local - d), q)
    return out


def fifo_multi(queue: np.ndarray, arrival: np.ndarray, servers: int | np.ndarray, service: float) -> np.ndarray:
    """Departure times of tasks in FIFO queues with ``servers`` identical servers (one number, or one per queue
    id) and equal service time."""
    order = np.lexsort((np.arange(queue.size), arrival, queue))
    q, a = queue[order], arrival[order]
    rank = _rank_in_group(q)
    srv = np.asarray(servers)[q] if np.ndim(servers) else np.full(q.size, int(servers))
    chain, pos = rank % srv, rank // srv
    o2 = np.lexsort((pos, chain, q))
    key = q[o2] * int(srv.max(initial=1)) + chain[o2]
    start = pos[o2] * service + group_cummax(a[o2] - pos[o2] * service, key)
    out = np.empty(queue.size)
    out[order[o2]] = start + service
    return out
