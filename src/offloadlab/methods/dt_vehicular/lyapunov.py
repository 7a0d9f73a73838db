"""Per-slot solution of P2 (eq. 24) by Lagrangian relaxation of the shared server capacity.

With the slot's queues fixed, P2 separates over the M = N K tasks except for the total allocation
S = sum(alpha), which appears in the edge energy G(S) = C S^3 (eq. 15) and the capacity (24c):

    P2 = const + sum_i [ omega_i (b_i + w_i / alpha_i) - mu_i alpha_i ] + G(S),
    t_i = L_i + omega_i (R_i - L_i + d_i / alpha_i) <= T                       (24c, deadline)

(b_i: QoS and local-energy change and queue arrivals per unit of omega; w_i: QoS cost of edge
computing; mu_i: queue service per unit of alpha). Pricing S at lambda decouples the tasks; each
task's minimum over (omega, alpha) is found exactly among three closed-form candidates (compute
locally; offload wholly with alpha = sqrt(w / price) clipped to the deadline's lower bound; offload
the share that finishes exactly at the deadline, at its stationary alpha). The dual function
D(lambda) is a lower bound on the P2 optimum (weak duality); its maximiser is found by bisection on
its monotone subgradient, and the task decisions on the feasible side of it give a primal solution,
then improved by local search over the tasks' modes, each mode pattern with its allocation solved
exactly (the same relaxation with every task's mode fixed is convex). ``gap`` = primal - D certifies
how far from optimal the returned decision can be (0 up to round-off when no task's mode jumps at the
maximiser; otherwise the choice of which tasks to offload is knapsack-like and the local search is a
heuristic whose remaining distance is bounded by the gap). Tasks whose local time alone exceeds T (none
with Table I) get a soft deadline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from offloadlab.scenarios.dt_vehicular.model import CAPACITY_TOL, DEADLINE_TOL, slot_costs
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams

BISECTION_STEPS = 200
BISECTION_RTOL = 1e-13
MAX_EXPANSIONS = 60
LOCAL_SEARCH_PASSES = 20
GAP_TOL = 1e-9  # relative gap below which the dual solution is accepted as optimal


@dataclass(frozen=True)
class SlotProblem:
    """Coefficients of P2 for one slot, flattened over the M = N K tasks."""

    b: np.ndarray  # [M] cost per unit omega at fixed edge time
    w: np.ndarray  # [M] QoS cost of edge computing, times alpha / omega
    mu: np.ndarray  # [M] queue-service reward per unit alpha
    L: np.ndarray  # [M] local time of the whole task
    R: np.ndarray  # [M] upload time of the whole task
    d: np.ndarray  # [M] edge time of the whole task at alpha = 1 (real frequency)
    hard: np.ndarray  # [M] bool, deadline enforced (local time <= T)
    T: float
    C: float  # G(S) = C S^3
    s_max: float  # capacity: S <= s_max


def slot_problem(p: DtVehicularParams, rate_bps: np.ndarray, task_bytes: np.ndarray, queue: np.ndarray) -> SlotProblem:
    """The coefficients of P2 in one slot (see the module docstring)."""
    D = np.asarray(task_bytes, dtype=float)
    M, T = D.size, p.deadline_s
    f_real = p.f_edge_hz * p.real_factor
    L = D * p.cycles_per_byte / p.f_vehicle_hz
    with np.errstate(divide="ignore"):
        R = 8.0 * D / np.asarray(rate_bps, dtype=float)[:, None]
    d = D * p.cycles_per_byte / f_real
    q = np.broadcast_to(np.asarray(queue, dtype=float), D.shape)
    e_local = p.kappa_vehicle * p.f_vehicle_hz**2 * p.cycles_per_byte * D
    b = p.qos_weight * (R - L) / (M * T) - p.energy_weight * e_local + p.beta * q * D
    w = p.qos_weight * d / (M * T)
    mu = p.beta * q * p.slot_s * f_real / p.cycles_per_byte
    C = p.energy_weight * p.kappa_edge * p.f_edge_hz**3 / p.n_edge_cores**2
    return SlotProblem(
        b.ravel(),
        w.ravel(),
        mu.ravel(),
        L.ravel(),
        R.ravel(),
        d.ravel(),
        (L <= T).ravel(),
        T,
        C,
        1.0 / p.capacity_factor,
    )


def task_choices(
    sp: SlotProblem, lam: np.ndarray | float, force: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each task's exact minimiser of omega (b + w / alpha) + (lam - mu) alpha: (omega, alpha, value, mode).

    ``lam`` is a price or an array [C] of prices (results [M] or [C, M]). Modes: 0 local, 1 whole task
    offloaded, 2 the share that finishes exactly at the deadline. ``force`` ([M] or [C, M]) restricts a
    task to one mode (-1: free).
    """
    price = np.asarray(lam, dtype=float)[..., None] - sp.mu
    b, w, d, hard = (np.broadcast_to(x, price.shape) for x in (sp.b, sp.w, sp.d, sp.hard))
    with np.errstate(divide="ignore", invalid="ignore"):
        # (0) compute locally; spare allocation only pays when it serves the queue at a negative price
        a0, c0 = (price < 0).astype(float), np.minimum(price, 0.0)
        # (1) offload wholly, alpha >= lb so that the deadline holds
        lb = np.where(hard, np.where(sp.T > sp.R, sp.d / (sp.T - sp.R), np.inf), 0.0)
        a1 = np.clip(np.where(price > 0, np.sqrt(w / price), 1.0), np.maximum(lb, 1e-300), 1.0)
        c1 = np.where(lb <= 1.0, b + w / a1 + price * a1, np.inf)
        # (2) offload omega = a alpha / (e alpha + d), finishing at T, alpha < lb (stationary point)
        a, e = sp.T - sp.L, sp.R - sp.L
        ub = np.minimum(lb, 1.0)
        rad = a * (e * w - b * d) / price
        a2 = np.where((price > 0) & (rad > 0) & (e > 0), (np.sqrt(rad) - d) / e, ub)
        a2 = np.where(np.isfinite(a2), np.clip(a2, 0.0, ub), 0.0)
        ok2 = hard & (a2 > 0) & (a > 0)
        w2 = np.where(ok2, np.minimum(a * a2 / (e * a2 + d), 1.0), 0.0)
        c2 = np.where(ok2, a * (b * a2 + w) / (e * a2 + d) + price * a2, np.inf)
    omega = np.stack([np.zeros_like(price), np.ones_like(price), w2], axis=-1)
    alpha = np.stack([a0, a1, np.where(ok2, a2, 0.0)], axis=-1)
    cost = np.stack([c0, c1, np.where(np.isfinite(c2), c2, np.inf)], axis=-1)
    if force is not None:
        f = np.asarray(force)[..., None]
        cost = np.where((f >= 0) & (np.arange(3) != f), np.inf, cost)
    k = np.argmin(cost, axis=-1)[..., None]

    def pick(x: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, k, axis=-1)[..., 0]

    return pick(omega), pick(alpha), pick(cost), k[..., 0]


def edge_share(sp: SlotProblem, lam: np.ndarray | float) -> np.ndarray:
    """argmin over S in [0, s_max] of C S^3 - lam S (elementwise in lam)."""
    lam = np.asarray(lam, dtype=float)
    free = np.sqrt(np.clip(lam, 0.0, None) / (3.0 * sp.C)) if sp.C > 0 else np.full(lam.shape, np.inf)
    return np.where(lam > 0, np.minimum(free, sp.s_max), 0.0)


def dual_value(sp: SlotProblem, lam: float | np.ndarray) -> float:
    """D(lam) without the constant: a lower bound on min P2 - const for every lam (weak duality)."""
    s = edge_share(sp, lam)
    return float(task_choices(sp, lam)[2].sum() + sp.C * s**3 - lam * s)


@dataclass
class SlotSolution:
    """The chosen decision and its certificate."""

    omega: np.ndarray  # [N, K]
    alpha: np.ndarray  # [N, K]
    p2: float
    lower_bound: float
    passes: int = 0  # local-search passes run

    @property
    def gap(self) -> float:
        """Primal minus the dual bound (>= 0)."""
        return self.p2 - self.lower_bound


def bisect(sp: SlotProblem, force: np.ndarray | None = None, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Brackets [lo, hi] ([C] each, C = ``rows`` problems with their own ``force``) of the dual maximiser:
    the subgradient sum(alpha) - S is > 0 at lo and <= 0 at hi, so the decisions at hi fit the capacity."""
    shape = () if rows is None else (rows,)

    def too_low(lam: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return task_choices(sp, lam, force)[1].sum(axis=-1) > edge_share(sp, lam)

    lo = np.full(shape, min(float(sp.mu.min()), 0.0) - 1.0)
    hi = np.full(shape, max(float(sp.mu.max()), 0.0) + 1.0)
    for _ in range(MAX_EXPANSIONS):  # rows still too low after this cannot fit the capacity at any price
        if not np.any(up := too_low(hi)):
            break
        lo, hi = np.where(up, hi, lo), np.where(up, hi * 4.0, hi)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if np.all(hi - lo <= BISECTION_RTOL * np.maximum(np.abs(hi), 1e-300)):
            break
        low = too_low(mid)
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    return lo, hi


def solve_slot(p: DtVehicularParams, rate_bps: np.ndarray, task_bytes: np.ndarray, queue: np.ndarray) -> SlotSolution:
    """Minimise P2 for one slot; returns the decision, its P2 value and a lower bound on the optimum."""
    sp = slot_problem(p, rate_bps, task_bytes, queue)
    shape = np.asarray(task_bytes).shape

    def value(w: np.ndarray, a: np.ndarray) -> np.ndarray:
        return _p2(p, rate_bps, task_bytes, queue, w.reshape(-1, *shape), a.reshape(-1, *shape))

    lo, hi = bisect(sp)
    bound = _p2_constant(p, rate_bps, task_bytes, queue) + max(dual_value(sp, lo), dual_value(sp, hi))
    w, a, _, modes = task_choices(sp, hi)
    best = float(value(w, a)[0])
    passes = 0
    while passes < LOCAL_SEARCH_PASSES:
        if best - bound <= GAP_TOL * max(1.0, abs(best)):
            break
        # every pattern that changes one task's mode, each with its allocation re-solved
        cand = np.repeat(modes[None], 2 * modes.size, axis=0)
        rows = np.arange(cand.shape[0])
        cand[rows, rows // 2] = (modes[rows // 2] + 1 + rows % 2) % 3
        W, A, _, _ = task_choices(sp, bisect(sp, cand, rows.size)[1], cand)
        vals = value(W, A)
        j = int(np.argmin(vals))
        if not vals[j] < best - 1e-12 * max(1.0, abs(best)):
            break
        w, a, modes, best = W[j], A[j], cand[j], float(vals[j])
        passes += 1
    return SlotSolution(w.reshape(shape), a.reshape(shape), best, min(bound, best), passes)


def _p2_constant(p, rate_bps, task_bytes, queue) -> float:
    """P2 of all-local with no allocation, i.e. the constant of the separable form."""
    zero = np.zeros((1, *np.asarray(task_bytes).shape))
    return float(_p2(p, rate_bps, task_bytes, queue, zero, zero)[0])


def _p2(p, rate_bps, task_bytes, queue, omega, alpha) -> np.ndarray:
    """P2 of B decisions, +inf where the capacity or a hard deadline is broken."""
    c = slot_costs(p, rate_bps, task_bytes, queue, omega, alpha)
    hard = (np.asarray(task_bytes) * p.cycles_per_byte / p.f_vehicle_hz <= p.deadline_s)[None]
    late = np.any(hard & (c.latency > p.deadline_s * (1 + DEADLINE_TOL)), axis=(1, 2))
    bad = late | (c.capacity > 1 + CAPACITY_TOL)
    return np.where(bad, np.inf, c.p2)
