"""LEOEdge's three-layer dual decomposition (eqs. 9-23, Algorithms 1-3) on one round, corrected or literal.

Corrected (default). y relaxed to [0, 1]; linking constraints added: sum_{o in s} y3[n, o] <= y2[n, s]
(multiplier nu, owned by server s) and sum_s y2[n, s] <= y1[n] (omega, owned by the LBS); the per-container
constraint (6) gets its own multiplier zeta_o. Constraints are written in slot units (each L-constraint
multiplied by the capacity it divides; task n needs d_n slots, 1 unless the instance says otherwise), with
the paper's multipliers lambda (cluster load <= p), mu (mean server load <= cluster load) and eta_s (mean
container load of s <= load of s). One synchronous projected primal-dual iteration per step, each layer
updating its own variables from the prices it receives:
    y3 += t (b - d eta_s - d zeta_o - nu[n, s])                 eq. (18) with the eta_s factor
    y2 += t (d eta_s - d mu + nu[n, s] - omega[n])              eq. (20)
    y1 += t (d (mu - lambda) + omega[n])                        eq. (22) with (mu - lambda), not -(lambda + mu)
    each multiplier += s (its constraint at the extrapolated y), projected on >= 0   (19), (21), (23)
where the multipliers see the extrapolated primal 2 y_new - y_old (the Chambolle-Pock primal-dual method;
the paper's plain gradient steps, the Arrow-Hurwicz method, oscillate on a linear program and did not reach
a stopping rule in 300 iterations). Step sizes are the diagonal preconditioning of Pock and Chambolle (2011):
t of a variable = ``step_scale`` / (sum of its constraint coefficients), s of a multiplier = 1 /
(``step_scale`` * sum of its constraint's coefficients), which converges for every ``step_scale`` > 0; the
sizes are computed from the round, so there is no step to tune (``DualOptions`` is the only source).
b is the benefit scaled by its round maximum.

Stopping rule (checked every iteration, documented in docs/leo-inference.md): the primal residual (largest
constraint violation, in tasks) is at most ``tol_violation`` AND the relative duality gap
(D - P) / D is at most ``tol``, where P is the relaxed objective of the current y and D the Lagrangian dual
bound of the round's LP at the current multipliers (sum of multiplier x capacity plus each variable's
positive reduced cost), an upper bound on the LP optimum for any multipliers >= 0. When both hold,
P >= (1 - tol) LP up to the residual. ``max_iter`` is a safety cap; solvers report how often it is hit.
Warm start: lambda, mu, eta, zeta carry over from round to round (the paper's historical information).

Rounding: tasks with y1 > 0.01, in decreasing order of y1 (ties by benefit), each go to their
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

ROUND_MIN_SHARE = 0.01  # a task whose y1 is at most this stays on board


@dataclass(frozen=True)
class DualOptions:
    """Step scale, iteration cap and tolerances of the decomposition: the one source of their defaults."""

    step_scale: float = 1.0
    max_iter: int = 2000
    tol: float = 2e-3
    tol_violation: float = 0.01
    literal: bool = False
    step_literal: float = 0.2  # the literal version's primal step (eqs. 18-23 give none)
    literal_iter: int = 300  # the literal version never meets the stopping rule: it runs min(this, max_iter)


@dataclass
class Multipliers:
    """Round-to-round multipliers (warm start): lambda, mu, eta [S], zeta [O]."""

    lam: float = 0.0
    mu: float = 0.0
    eta: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zeta: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class DualResult:
    """Relaxed y, iterations, whether the stopping rule was met, per-iteration relaxed objective, residual
    (slot units) and relative gap, and the residual of the returned y."""

    y1: np.ndarray
    y2: np.ndarray
    y3: np.ndarray
    iterations: int
    converged: bool
    objective: list[float]
    violation: list[float]
    gap: list[float]
    final_violation: float


def messages_per_iteration(rp: RoundProblem) -> dict[str, int]:
    """Messages of one iteration by layer (see the module docstring)."""
    o = rp.servers * rp.per_server
    return {"satellite-LBS": 2 * int(np.unique(rp.sats).size), "LBS-server": 2 * rp.servers, "server-container": 2 * o}


def relaxed_objective(benefit: np.ndarray, y1: np.ndarray, y3: np.ndarray) -> float:
    """Benefit of a relaxed y: each task counts min(y1, sum_o y3) (what leaves the satellite and is placed)."""
    return float(benefit @ np.minimum(y1, y3.sum(axis=1)))


def _constraints(rp: RoundProblem, y1: np.ndarray, y2: np.ndarray, y3: np.ndarray) -> dict[str, np.ndarray]:
    """Every constraint's value (<= 0 when it holds), in slot units."""
    n, s, k = y1.size, rp.servers, rp.per_server
    d = rp.demand
    y3s = y3.reshape(n, s, k).sum(2)
    return {
        "nu": y3s - y2,
        "om": y2.sum(1) - y1,
        "zeta": d @ y3 - rp.capacity,
        "eta": d @ y3s - d @ y2,
        "mu": np.array([d @ y2.sum(1) - d @ y1]),
        "lam": np.array([d @ y1 - rp.cluster_capacity]),
    }


def _violation(rp: RoundProblem, y1: np.ndarray, y2: np.ndarray, y3: np.ndarray) -> float:
    """Largest violation (slot units) of linking, container and cluster constraints of a relaxed y."""
    return float(max(0.0, *(float(np.max(v, initial=0.0)) for v in _constraints(rp, y1, y2, y3).values())))


@dataclass
class _Steps:
    """Diagonally preconditioned step sizes (Pock and Chambolle 2011, alpha = 1)."""

    t3: np.ndarray
    t2: np.ndarray
    t1: np.ndarray
    dual: dict[str, np.ndarray | float]


def _steps(rp: RoundProblem, scale: float) -> _Steps:
    s, k = rp.servers, rp.per_server
    d, dsum = rp.demand, float(rp.demand.sum())
    # a variable's step: 1 / (sum of |coefficients| in its column); a multiplier's: 1 / (its row's sum)
    col3, col2, col1 = 1 + 2 * d, 2 + 2 * d, 1 + 2 * d
    return _Steps(
        scale / np.repeat(col3[:, None], s * k, axis=1),
        scale / np.repeat(col2[:, None], s, axis=1),
        scale / col1,
        {
            "nu": 1 / (scale * (k + 1)),
            "om": 1 / (scale * (s + 1)),
            "zeta": 1 / (scale * dsum),
            "eta": 1 / (scale * dsum * (k + 1)),
            "mu": 1 / (scale * dsum * (s + 1)),
            "lam": 1 / (scale * dsum),
        },
    )


def _dual_bound(rp: RoundProblem, b: np.ndarray, m: dict[str, np.ndarray]) -> float:
    """Lagrangian dual bound of the round's LP at multipliers ``m`` (>= the LP optimum, scaled benefits)."""
    red3, red2, red1 = _reduced(rp, b, m)
    caps = float(m["zeta"] @ rp.capacity) + float(m["lam"][0]) * rp.cluster_capacity
    return caps + float(np.maximum(red3, 0).sum() + np.maximum(red2, 0).sum() + np.maximum(red1, 0).sum())


def _reduced(rp: RoundProblem, b: np.ndarray, m: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Reduced costs (gradients of the Lagrangian) of y3, y2, y1."""
    k = rp.per_server
    d = rp.demand[:, None]
    srv = np.arange(rp.servers * k) // k
    red3 = b[:, None] - d * (m["eta"][srv] + m["zeta"])[None, :] - m["nu"][:, srv]
    red2 = d * (m["eta"][None, :] - m["mu"][0]) + m["nu"] - m["om"][:, None]
    red1 = rp.demand * (m["mu"][0] - m["lam"][0]) + m["om"]
    return red3, red2, red1


def decompose(rp: RoundProblem, opt: DualOptions, mult: Multipliers) -> DualResult:
    """Run the decomposition on one round; updates ``mult`` in place (warm start for the next round)."""
    if opt.literal:
        return _decompose_literal(rp, opt, mult)
    n, s, o = rp.tasks.size, rp.servers, rp.servers * rp.per_server
    if mult.eta.size != s:
        mult.eta, mult.zeta = np.zeros(s), np.zeros(o)
    m = {
        "nu": np.zeros((n, s)),
        "om": np.zeros(n),
        "zeta": mult.zeta.copy(),
        "eta": mult.eta.copy(),
        "mu": np.array([mult.mu]),
        "lam": np.array([mult.lam]),
    }
    y1, y2, y3 = np.zeros(n), np.zeros((n, s)), np.zeros((n, o))
    bmax = max(float(np.max(rp.benefit, initial=0.0)), 1e-12)
    b = rp.benefit / bmax
    st = _steps(rp, opt.step_scale)
    objective: list[float] = []
    violation: list[float] = []
    gap: list[float] = []
    converged = False
    while len(objective) < opt.max_iter:
        red3, red2, red1 = _reduced(rp, b, m)
        n3 = np.clip(y3 + st.t3 * red3, 0, 1)
        n2 = np.clip(y2 + st.t2 * red2, 0, 1)
        n1 = np.clip(y1 + st.t1 * red1, 0, 1)
        # the multipliers see the extrapolated primal 2 y_new - y_old
        g = _constraints(rp, 2 * n1 - y1, 2 * n2 - y2, 2 * n3 - y3)
        for key, val in g.items():
            m[key] = np.maximum(m[key] + st.dual[key] * val, 0.0)
        y1, y2, y3 = n1, n2, n3
        primal = relaxed_objective(b, y1, y3)
        bound = _dual_bound(rp, b, m)
        objective.append(primal * bmax)
        violation.append(_violation(rp, y1, y2, y3))
        gap.append((bound - primal) / max(bound, 1e-12))
        if violation[-1] <= opt.tol_violation and abs(gap[-1]) <= opt.tol:
            converged = True
            break
    mult.zeta, mult.eta, mult.mu, mult.lam = m["zeta"], m["eta"], float(m["mu"][0]), float(m["lam"][0])
    final = violation[-1] if violation else 0.0
    return DualResult(y1, y2, y3, len(objective), converged, objective, violation, gap, final)


def _decompose_literal(rp: RoundProblem, opt: DualOptions, mult: Multipliers) -> DualResult:
    """Eqs. (18)-(23) as printed (see the module docstring); runs min(``literal_iter``, ``max_iter``) iterations."""
    n, s, k = rp.tasks.size, rp.servers, rp.per_server
    o = s * k
    srv = np.arange(o) // k
    if mult.eta.size != s:
        mult.eta, mult.zeta = np.zeros(s), np.zeros(o)
    y1, y2, y3 = np.zeros(n), np.zeros((n, s)), np.zeros((n, o))
    b = rp.benefit / max(float(np.max(rp.benefit, initial=0.0)), 1e-12)
    cap_o = rp.slot_array
    q_s = rp.q.reshape(s, k).sum(1)
    cap_s, cap_c = cap_o.reshape(s, k).sum(1), float(cap_o.sum())
    gp = opt.step_literal
    objective, violation = [], []
    runs = min(opt.literal_iter, opt.max_iter)
    for _ in range(runs):
        y3 = np.clip(y3 + gp * (b[:, None] - 1.0 / cap_o[None, :]), 0, 1)
        y2 = np.clip(y2 + (mult.eta - mult.mu / s)[None, :] / cap_s[None, :], 0, 1)
        y1 = np.clip(y1 - (mult.lam + mult.mu) / cap_c, 0, 1)
        g_o = (rp.q + rp.demand @ y3) / cap_o / s
        g_s = (q_s + rp.demand @ y2) / cap_s / s
        g_c = (rp.q.sum() + rp.demand @ y1) / cap_c
        mult.eta = np.maximum(mult.eta - (np.bincount(srv, g_o, s) - g_s), 0)  # (19) as printed
        mult.mu = max(mult.mu - (g_s.sum() - g_c), 0.0)  # (21) as printed
        mult.lam = max(mult.lam + (g_c - rp.p), 0.0)  # (23)
        objective.append(relaxed_objective(rp.benefit, y1, y3))
        violation.append(_violation(rp, y1, y2, y3))
    return DualResult(y1, y2, y3, runs, False, objective, violation, [], violation[-1] if violation else 0.0)


def round_relaxed(rp: RoundProblem, res: DualResult) -> np.ndarray:
    """The stated rounding rule: container per task (-1 local)."""
    order = np.lexsort((-rp.benefit, -res.y1))
    order = order[res.y1[order] > ROUND_MIN_SHARE]
    return greedy_assign(rp, order, prefer=res.y3)
