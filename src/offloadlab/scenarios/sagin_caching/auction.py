"""Auction rules of Section V, vectorized over K rounds: the modified second-bid auction (MSB, eqs. 31-32)
with a price-scaling rule for rho, and the second-price auction (SPA).

Bids are ``bs_bids`` [K, N] of the ground BSs (performance bidders) and ``x0`` [K] of the satellite
(contract price). Outcomes put the satellite in column 0: z, p are [K, N + 1].

Strategy-proofness (Theorem 2) holds when the rho that prices BS n depends only on the others' bids
x_{-n}: BS n then wins iff x_n > chi_n = rho(x_{-n}) max(x_{-n}) and pays chi_n, a threshold rule.
``msb`` therefore evaluates the rho rule once per bidder on that bidder's x_{-n}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RHO_MAX = 1e12  # cap of a rho rule (myopic MSB divides by the second bid)
TINY = 1e-12  # a zero competing bid counts as TINY x (1 + x0), so rho x max(x_-n) stays finite and continuous

# A rho rule maps the competing BS bids [K, N - 1] (sorted descending) and x0 [K] to rho [K] (>= 1).
RhoRule = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Outcome:
    """Allocation z and payments p ([K, N + 1], satellite first) and the rho that priced each round's top BS."""

    z: np.ndarray
    p: np.ndarray
    rho: np.ndarray  # [K]


def others(bs_bids: np.ndarray) -> np.ndarray:
    """x_{-n} for every n: [K, N, N - 1], each row sorted descending."""
    x = np.asarray(bs_bids, dtype=float)
    K, N = x.shape
    mask = ~np.eye(N, dtype=bool)
    rest = np.broadcast_to(x[:, None, :], (K, N, N))[:, mask].reshape(K, N, N - 1)
    return -np.sort(-rest, axis=-1)


def competing_max(rest: np.ndarray, x0: np.ndarray | float) -> np.ndarray:
    """max(x_{-n}) floored at TINY (1 + x0): [K, N]."""
    top = rest[..., 0] if rest.shape[-1] else np.zeros(rest.shape[:-1])
    return np.maximum(top, TINY * (1.0 + np.asarray(x0, dtype=float)[:, None]))


def myopic_rho(rest: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Myopic MSB: rho = max(1, x0 / x(2)) with this round's bids (x(2): the highest competing BS bid)."""
    top = competing_max(rest[:, None, :], x0)[:, 0]
    return np.minimum(np.maximum(1.0, x0 / top), RHO_MAX)


def msb(bs_bids: np.ndarray, x0: np.ndarray | float, rho: RhoRule | float | np.ndarray) -> Outcome:
    """Eqs. (31)-(32): BS n wins iff x_n > rho max(x_{-n}) and pays that; otherwise the satellite wins and
    pays its contract price x0. ``rho`` is a rule of (x_{-n}, x0), evaluated per bidder, or a number or
    per-round array [K] set before the bids are seen (e.g. optimal MSB's max(1, E[x0] / E[x(2)]))."""
    x = np.asarray(bs_bids, dtype=float)
    x0s = np.broadcast_to(np.asarray(x0, dtype=float), x.shape[:1])
    K, N = x.shape
    rest = others(x)  # [K, N, N-1]
    if callable(rho):
        r = np.asarray(rho(rest.reshape(K * N, N - 1), np.repeat(x0s, N)), dtype=float).reshape(K, N)
    else:
        r = np.broadcast_to(np.asarray(rho, dtype=float).reshape(-1, 1), (K, N))
    r = np.maximum(1.0, r)
    chi = r * competing_max(rest, x0s)  # critical payment of each BS
    win = x > chi
    z = np.concatenate([~win.any(axis=1, keepdims=True), win], axis=1).astype(float)
    p = np.concatenate([z[:, :1] * x0s[:, None], win * chi], axis=1)
    top = np.argmax(x, axis=1)
    return Outcome(z, p, r[np.arange(K), top])


def spa(bs_bids: np.ndarray, x0: np.ndarray | float) -> Outcome:
    """Second-price auction over all N + 1 operators (the satellite bids x0): the highest bid wins and pays
    the second-highest; ties go to the satellite."""
    x = np.asarray(bs_bids, dtype=float)
    x0s = np.broadcast_to(np.asarray(x0, dtype=float), x.shape[:1])
    bids = np.concatenate([x0s[:, None], x], axis=1)
    K = len(bids)
    order = np.argsort(-bids, axis=1, kind="stable")  # stable: the satellite (column 0) wins ties
    winner = order[:, 0]
    z = np.zeros_like(bids)
    z[np.arange(K), winner] = 1.0
    p = z * bids[np.arange(K), order[:, 1]][:, None]
    return Outcome(z, p, np.ones(K))


def surplus(values: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
    """Realized surplus per round (eq. 30a): total, ground BSs', satellite's, and the efficient maximum."""
    v = np.asarray(values, dtype=float)
    got = v * outcome.z
    return {
        "total": got.sum(axis=1),
        "ground": got[:, 1:].sum(axis=1),
        "satellite": got[:, 0],
        "optimal": v.max(axis=1),
    }


def utilities(values: np.ndarray, outcome: Outcome) -> np.ndarray:
    """Quasi-linear utility v z - p of every operator, [K, N + 1]."""
    return np.asarray(values, dtype=float) * outcome.z - outcome.p


def contract_price(v0: np.ndarray, v1: np.ndarray) -> float:
    """Satellite's contract price x0 = argmax_x E[(v0 - v(1)) 1(v(1) <= x)] over samples (Mechanism 1)."""
    order = np.argsort(v1)
    gain = np.cumsum((v0 - v1)[order])
    k = int(np.argmax(gain))
    return float(v1[order][k]) if gain[k] > 0 else 0.0


def rho_level(action: np.ndarray | int, levels: int) -> np.ndarray:
    """DQMSB's price-scaling factor rho = 10^(a / |A|)."""
    return 10.0 ** (np.asarray(action, dtype=float) / levels)


# Bid multipliers of the strategy-proofness check: each BS bids f x its value, the others truthfully.
DEVIATIONS = (0.0, 0.5, 0.9, 0.99, 1.01, 1.1, 1.5, 2.0, 3.0)
SCALES = (0.5, 2.0)  # common factors of the adverse-selection check


def profitable_deviations(
    values: np.ndarray,
    x0: np.ndarray | float,
    rho: RhoRule | float | np.ndarray,
    factors: tuple[float, ...] = DEVIATIONS,
) -> int:
    """Theorem 2, strategy-proofness: how many (round, BS, factor) deviations raise that BS's MSB utility above
    its truthful one. ``values`` [K, N + 1], satellite first; x0 is the satellite's contract price."""
    v = np.asarray(values, dtype=float)
    bs = v[:, 1:]
    truthful = utilities(v, msb(bs, x0, rho))[:, 1:]
    tol = 1e-9 * (1.0 + np.abs(bs))
    found = 0
    for n in range(bs.shape[1]):
        for f in factors:
            bids = bs.copy()
            bids[:, n] *= f
            gain = utilities(v, msb(bids, x0, rho))[:, 1 + n] - truthful[:, n]
            found += int((gain > tol[:, n]).sum())
    return found


def scale_changed_rounds(
    bs_bids: np.ndarray, x0: np.ndarray | float, rho: RhoRule | float | np.ndarray, scales: tuple[float, ...] = SCALES
) -> int:
    """Theorem 2, adverse-selection-freeness: rounds (summed over ``scales``) whose MSB allocation changes when
    every BS bid and x0 are multiplied by a common factor c."""
    x = np.asarray(bs_bids, dtype=float)
    x0s = np.broadcast_to(np.asarray(x0, dtype=float), x.shape[:1])
    base = msb(x, x0s, rho).z
    return int(sum((msb(c * x, c * x0s, rho).z != base).any(axis=1).sum() for c in scales))
