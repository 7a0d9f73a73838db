"""LEOEdge's three-layer dual decomposition (eqs. 9-23, Algorithms 1-3) on one round, corrected or literal.

Corrected (default). y relaxed to [0, 1]; linking constraints added: sum_{o in s} y3[n, o] <= y2[n, s]
(multiplier nu, owned by server s) and sum_s y2[n, s] <= y1[n] (omega, owned by the LBS); the per-container
constraint (6) gets its own multiplier zeta_o. Constraints are written in task units (each L-constraint
multiplied by the capacity it divides, a diagonal rescaling of the multipliers), with the paper's
multipliers lambda (cluster load <= p), mu (mean server load <= cluster load) and eta_s (mean container
load of s <= load of s). One synchronous projected primal-dual (sub)gradient iteration per step:
    y3 += g (b - eta_s - zeta_o - nu[n, s] - eps y3)            eq. (18) with the eta_s factor
    y2 += g (eta_s - mu + nu[n, s] - omega[n] - eps y2)          eq. (20)
    y1 += g ((mu - lambda) + omega[n] - eps y1)                  eq. (22) with (mu - lambda), not -(lambda + mu)
    each multiplier += d / (variables in its constraint) * (its value), projected on >= 0   (19), (21), (23)
b is the benefit scaled by its round maximum; eps (a proximal term) damps the oscillation of a linear
program; the returned y is the average of the second half of the iterates (ergodic averaging), or the last iterate
when the run stops early: the relaxed objective moved by at most ``tol`` (relative) over 20 iterations, the
multipliers lambda, mu, eta, zeta by at most ``tol`` (relative) in the last one, and every constraint holds
within ``tol_violation`` tasks.
Rounding: tasks with averaged y1 > 0.01, in decreasing order of y1 (ties by benefit), each go to their
largest-y3 container that still has room (container and cluster loads <= p after it) while room remains;
the others stay local. (Every task here has a positive benefit, so letting tasks with a fractional y1 fill
room left over never lowers the objective; tasks with y1 >= 0.5 come first.)

Literal (``literal=True``): eqs. (18)-(23) as printed, in the paper's L units (g_o = L_o / S, g_s = L_s / S,
g_S = L_S), no linking, multipliers kept in the dual domain of (15) (>= 0): then y1 only decreases from 0 and
no satellite ever offloads.

Messages (per iteration, one per entity per directed link, broadcasts counted per recipient):
container -> server and server -> container (2 O), server -> LBS and LBS -> server (2 S), satellite -> LBS
and LBS -> satellite for each satellite with a task in the round (2 n_sat).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from offloadlab.methods.leo_inference.rounds import RoundProblem, greedy_assign

ROUND_MIN_SHARE = 0.01  # a task whose averaged y1 is at most this stays on board
STOP_WINDOW = 20  # iterations over which the relaxed objective must settle


@dataclass(frozen=True)
class DualOptions:
    """Step sizes, proximal weight, iteration cap and tolerance of the decomposition."""

    step_primal: float = 0.2
    step_dual: float = 1.0
    eps: float = 0.02
    max_iter: int = 300
    tol: float = 1e-3
    tol_violation: float = 0.01
    literal: bool = False


@dataclass
class Multipliers:
    """Round-to-round multipliers (warm start): lambda, mu, eta [S], zeta [O]."""

    lam: float = 0.0
    mu: float = 0.0
    eta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zeta: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class DualResult:
    """Relaxed (averaged) y, iterations, per-iteration relaxed objective and max violation (tasks), and the
    violation of the returned y."""

    y1: np.ndarray
    y2: np.ndarray
    y3: np.ndarray
    iterations: int
    objective: list[float]
    violation: list[float]
    final_violation: float


def messages_per_iteration(rp: RoundProblem) -> dict[str, int]:
    """Messages of one iteration by layer (see the module docstring)."""
    o = rp.servers * rp.per_server
    return {"satellite-LBS": 2 * int(np.unique(rp.sats).size), "LBS-server": 2 * rp.servers, "server-container": 2 * o}


def relaxed_objective(benefit: np.ndarray, y1: np.ndarray, y3: np.ndarray) -> float:
    """Benefit of a relaxed y: each task counts min(y1, sum_o y3) (what leaves the satellite and is placed)."""
    return float(benefit @ np.minimum(y1, y3.sum(axis=1)))


def _violation(rp: RoundProblem, y1: np.ndarray, y2: np.ndarray, y3: np.ndarray) -> float:
    """Largest violation (tasks) of linking, container and cluster constraints of a relaxed y."""
    n, s, k = y1.size, rp.servers, rp.per_server
    per_srv = y3.reshape(n, s, k).sum(axis=2)
    cap_o = rp.p * rp.slots - rp.q
    return float(
        max(
            0.0,
            np.max(per_srv - y2, initial=0),
            np.max(y2.sum(1) - y1, initial=0),
            np.max(y3.sum(0) - cap_o, initial=0),
            y1.sum() - (rp.p * rp.slots * rp.q.size - rp.q.sum()),
        )
    )


def decompose(rp: RoundProblem, opt: DualOptions, mult: Multipliers) -> DualResult:
    """Run the decomposition on one round; updates ``mult`` in place (warm start for the next round)."""
    n, s, k = rp.tasks.size, rp.servers, rp.per_server
    o = s * k
    srv = np.arange(o) // k
    if mult.eta.size != s:
        mult.eta, mult.zeta = np.zeros(s), np.zeros(o)
    y1, y2, y3 = np.zeros(n), np.zeros((n, s)), np.zeros((n, o))
    acc = [np.zeros(n), np.zeros((n, s)), np.zeros((n, o))]
    n_acc = 0
    b = rp.benefit / max(float(np.max(rp.benefit, initial=0.0)), 1e-12)
    q_o, q_s = rp.q, rp.q.reshape(s, k).sum(1)
    cap_o, cap_s, cap_c = float(rp.slots), float(rp.slots * k), float(rp.slots * o)
    nu, om = np.zeros((n, s)), np.zeros(n)
    gp, gd, eps = opt.step_primal, opt.step_dual, opt.eps
    objective, violation = [], []
    it = 0
    for it in range(1, opt.max_iter + 1):
        before = np.concatenate([[mult.lam, mult.mu], mult.eta, mult.zeta])
        if opt.literal:
            # (18): gradient of F minus L_o' (no eta factor); (20), (22) as printed (no step factor)
            y3 = np.clip(y3 + gp * (b[:, None] - 1.0 / cap_o), 0, 1)
            y2 = np.clip(y2 + (mult.eta - mult.mu / s)[None, :] / cap_s, 0, 1)
            y1 = np.clip(y1 - (mult.lam + mult.mu) / cap_c, 0, 1)
            g_o = (q_o + y3.sum(0)) / cap_o / s
            g_s = (q_s + y2.sum(0)) / cap_s / s
            g_c = (rp.q.sum() + y1.sum()) / cap_c
            mult.eta = np.maximum(mult.eta - gd * (np.bincount(srv, g_o, s) - g_s), 0)  # (19) as printed
            mult.mu = max(mult.mu - gd * (g_s.sum() - g_c), 0.0)  # (21) as printed
            mult.lam = max(mult.lam + gd * (g_c - rp.p), 0.0)  # (23)
        else:
            y3 = np.clip(
                y3 + gp * (b[:, None] - mult.eta[srv][None, :] - mult.zeta[None, :] - nu[:, srv] - eps * y3), 0, 1
            )
            y2 = np.clip(y2 + gp * (mult.eta[None, :] - mult.mu + nu - om[:, None] - eps * y2), 0, 1)
            y1 = np.clip(y1 + gp * ((mult.mu - mult.lam) + om - eps * y1), 0, 1)
            y3s = y3.reshape(n, s, k).sum(2)
            # constraint values in task units, all "<= 0"; each dual step is divided by the number of
            # primal variables in its constraint (a diagonal preconditioner: a sum over n tasks reacts n times faster)
            mult.zeta = np.maximum(mult.zeta + gd / n * (q_o + y3.sum(0) - rp.p * cap_o), 0)  # (6)
            mult.eta = np.maximum(mult.eta + gd / (n * (k + 1)) * (y3s.sum(0) - y2.sum(0)), 0)  # (19), corrected
            mult.mu = max(mult.mu + gd / (n * (s + 1)) * (y2.sum() - y1.sum()), 0.0)  # (21), corrected sign
            mult.lam = max(mult.lam + gd / n * (rp.q.sum() + y1.sum() - rp.p * cap_c), 0.0)  # (23)
            nu = np.maximum(nu + gd / (k + 1) * (y3s - y2), 0)
            om = np.maximum(om + gd / (s + 1) * (y2.sum(1) - y1), 0)
        if it > opt.max_iter // 2:
            for a, y in zip(acc, (y1, y2, y3)):
                a += y
            n_acc += 1
        objective.append(relaxed_objective(rp.benefit, y1, y3))
        violation.append(_violation(rp, y1, y2, y3))
        after = np.concatenate([[mult.lam, mult.mu], mult.eta, mult.zeta])
        w = STOP_WINDOW
        if (
            it >= 3 * w
            and violation[-1] < opt.tol_violation
            and (abs(objective[-1] - objective[-w]) <= opt.tol * max(abs(objective[-1]), 1e-12))
            and (np.max(np.abs(after - before)) <= opt.tol * (1.0 + np.max(np.abs(after))))
        ):
            break
    if n_acc == 0 or it < opt.max_iter:  # stopped early on convergence: the last iterate is the answer
        acc, n_acc = [y1, y2, y3], 1
    y = [a / n_acc for a in acc]
    return DualResult(y[0], y[1], y[2], it, objective, violation, _violation(rp, *y))


def round_relaxed(rp: RoundProblem, res: DualResult) -> np.ndarray:
    """The stated rounding rule: container per task (-1 local)."""
    order = np.lexsort((-rp.benefit, -res.y1))
    order = order[res.y1[order] > ROUND_MIN_SHARE]
    return greedy_assign(rp, order, prefer=res.y3)
