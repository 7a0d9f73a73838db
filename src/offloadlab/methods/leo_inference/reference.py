"""The same round problem solved centrally: scipy.optimize.milp (HiGHS) with binary y, and its LP relaxation.

Variables y1 [n], y2 [n, S], y3 [n, O]; maximise sum_n b_n sum_o y3[n, o] subject to the linking equalities
sum_o in s y3 = y2, sum_s y2 = y1, y1 <= 1, container (6) and cluster (8) loads <= p (linear L, each task
weighted by the slots it needs), and the second and third lines of (8) (implied by the linking with equal
servers, kept for fidelity).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, hstack, vstack

from offloadlab.methods.leo_inference.rounds import RoundProblem


def solve_round(rp: RoundProblem, relax: bool = False) -> tuple[float, np.ndarray, np.ndarray]:
    """Optimal value, y1 [n] and y3 [n, O] of one round (LP relaxation if ``relax``)."""
    n, s, k = rp.tasks.size, rp.servers, rp.per_server
    o = s * k
    if n == 0:
        return 0.0, np.zeros(0), np.zeros((0, o))
    n1, n2, n3 = n, n * s, n * o
    eye_n = coo_matrix(np.eye(n))
    # sum_{o in s} y3[n, o] - y2[n, s] = 0
    a3 = coo_matrix(np.kron(np.eye(n * s), np.ones((1, k))))
    link2 = hstack([coo_matrix((n2, n1)), -coo_matrix(np.eye(n2)), a3])
    # sum_s y2[n, s] - y1[n] = 0
    link1 = hstack([-eye_n, coo_matrix(np.kron(np.eye(n), np.ones((1, s)))), coo_matrix((n1, n3))])
    d = rp.demand[None, :]  # slots per task: the load rows weigh each task by its demand
    cont = hstack([coo_matrix((o, n1 + n2)), coo_matrix(np.kron(d, np.eye(o)))])
    clus = hstack([coo_matrix(d), coo_matrix((1, n2 + n3))])
    # (8) line 2: Y2 - Y1 <= 0 and line 3 per server: Y3_s - Y2_s <= 0 (slot units)
    l2 = hstack([-coo_matrix(d), coo_matrix(np.repeat(d, s, axis=1)), coo_matrix((1, n3))])
    l3 = hstack(
        [
            coo_matrix((s, n1)),
            -coo_matrix(np.kron(d, np.eye(s))),
            coo_matrix(np.kron(d, np.kron(np.eye(s), np.ones((1, k))))),
        ]
    )
    a = vstack([link2, link1, cont, clus, l2, l3]).tocsr()
    cap_o, cap_c = rp.capacity, rp.cluster_capacity
    lo = np.concatenate([np.zeros(n2 + n1), np.full(o + 1 + 1 + s, -np.inf)])
    hi = np.concatenate([np.zeros(n2 + n1), np.maximum(cap_o, 0), [max(cap_c, 0.0)], [0.0], np.zeros(s)])
    c = np.concatenate([np.zeros(n1 + n2), -np.repeat(rp.benefit, o)])
    res = milp(
        c,
        constraints=LinearConstraint(a, lo, hi),
        bounds=Bounds(0, 1),
        integrality=np.zeros(c.size) if relax else np.ones(c.size),
    )
    if not res.success:
        raise RuntimeError(f"HiGHS failed on a round: {res.message}")
    x = res.x
    return float(-res.fun), x[:n1], x[n1 + n2 :].reshape(n, o)
