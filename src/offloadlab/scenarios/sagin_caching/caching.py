"""Caching policies (Least-AoT of Algorithm 1, FIFO, LFU, cloud-only) run through an episode, with the
offloading of each slot decided by the cost of (28a), and the episode's cost breakdown computed by the
vectorized model (eqs. 21-27)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.sagin_caching import model
from offloadlab.scenarios.sagin_caching.episode import Episode
from offloadlab.scenarios.sagin_caching.model import COST_TERMS, Relay

Policy = Literal["laot", "fifo", "lfu", "cloud"]
POLICIES: tuple[Policy, ...] = ("laot", "fifo", "lfu", "cloud")
RELAYS: tuple[Relay, ...] = ("ground", "satellite")


@dataclass(frozen=True)
class Trajectory:
    """Decisions and states of one episode, all [T, N, I]: a, edge share x, K and kappa after each slot."""

    cached: np.ndarray
    edge: np.ndarray
    K: np.ndarray
    kappa: np.ndarray
    evictions: int  # evictions to free GPU memory (constraint 3)
    refreshes: int  # evictions because the context window filled (constraint 28c)
    policy: Policy = "laot"

    @property
    def kappa_before(self) -> np.ndarray:
        """AoT at the start of each slot (kappa^{t-1}), [T, N, I]."""
        return np.concatenate([np.zeros_like(self.kappa[:1]), self.kappa[:-1]], axis=0)


def _victim_scores(policy: Policy, kappa: np.ndarray, loaded_at: np.ndarray, freq: np.ndarray) -> np.ndarray:
    """Eviction order within one BS: the cached model with the lowest score leaves first."""
    if policy == "laot":
        return kappa  # Algorithm 1, line 14: argmin of the AoT
    if policy == "fifo":
        return loaded_at
    return freq  # lfu


def _cache_slot(
    a_prev: np.ndarray, demand: np.ndarray, memory: np.ndarray, capacity: float, scores: np.ndarray
) -> tuple[np.ndarray, int]:
    """Algorithm 1, lines 4-23, at one BS: keep requested cached models, load missing ones while memory
    allows, evicting unrequested cached models in score order when it does not. Every requested model that
    is cached is protected from the start of the slot, not only once the loop has reached it."""
    a = a_prev.copy()
    keep = a & (demand > 0)
    used = float((a * memory).sum())
    evicted = 0
    for i in np.flatnonzero(demand > 0):
        if a[i]:
            keep[i] = True
            continue
        while used + memory[i] > capacity:
            cand = np.flatnonzero(a & ~keep)
            if cand.size == 0:
                break
            victim = cand[np.argmin(scores[cand])]
            a[victim] = False
            used -= memory[victim]
            evicted += 1
        if used + memory[i] <= capacity:
            a[i] = keep[i] = True
            used += memory[i]
    return a, evicted


def _offload_slot(
    a: np.ndarray, demand: np.ndarray, joules: np.ndarray, budget_j: float, saving: np.ndarray
) -> np.ndarray:
    """Algorithm 1, lines 24-28, with b chosen by (28a): a cached, requested model serves its requests at the edge
    when that costs less than the cloud (``saving`` > 0 per request), the largest savings per joule first, while
    the slot's energy budget (eq. 5) allows."""
    x = np.zeros(a.shape)
    spent = 0.0
    cand = np.flatnonzero(a & (demand > 0) & (saving > 0))
    for i in cand[np.argsort(-demand[cand] * saving[cand] / joules[cand], kind="stable")]:
        if spent + joules[i] <= budget_j:
            x[i] = 1.0
            spent += joules[i]
    return x


def edge_saving(ep: Episode, requests: np.ndarray, kappa_prev: np.ndarray, relay: Relay) -> np.ndarray:
    """Cloud minus edge cost of one request [N, I] if every request of the slot is served at the edge.

    Edge: GPU time (eq. 23) and accuracy (eq. 24) at the AoT this slot would reach; cloud: backhaul (eq. 22)
    and the cloud price (eq. 26). The access time l_{n,i} is paid either way and the switching cost is sunk."""
    p = ep.params
    rate_c, backhaul_price, cloud_price = relay_prices(ep, relay)
    full = np.ones_like(requests)
    _, kappa = model.aot_step(
        0.0, kappa_prev, full, model.edge_tokens(requests, full, ep.cot_tokens), ep.thought_tokens, p.vanishing_factor
    )
    edge = model.computation_cost(
        1.0, 1.0, ep.cot_tokens, ep.flops_per_token, p.compute_flops, p.compute_cost
    ) + p.accuracy_weight * model.unit_accuracy_cost(ep.alpha, ep.beta, kappa)
    cloud = backhaul_price * ep.data_bits / rate_c + cloud_price
    return cloud - edge


def simulate(ep: Episode, policy: Policy, relay: Relay = "ground") -> Trajectory:
    """Run a caching policy through the episode, cloud-bound requests over ``relay``; 'cloud' caches nothing and
    sends every request to the cloud."""
    if policy not in POLICIES:
        raise InputError("policy", f"unknown caching policy {policy!r} (allowed: {', '.join(POLICIES)})")
    relay_prices(ep, relay)  # rejects an unknown relay
    p = ep.params
    T, N, I = ep.requests.shape
    out = {k: np.zeros((T, N, I)) for k in ("cached", "edge", "K", "kappa")}
    if policy == "cloud":
        return Trajectory(**out, evictions=0, refreshes=0, policy=policy)
    a = np.zeros((N, I), dtype=bool)
    K = np.zeros((N, I))
    kappa = np.zeros((N, I))
    loaded_at = np.zeros((N, I))
    freq = np.zeros((N, I))
    evictions = refreshes = 0
    tokens_per_request = ep.cot_tokens
    for t in range(T):
        R = ep.requests[t]
        freq += R
        x = np.zeros((N, I))
        saving = edge_saving(ep, R, kappa, relay)
        for n in range(N):
            scores = _victim_scores(policy, kappa[n], loaded_at[n], freq[n])
            new_a, ev = _cache_slot(a[n], R[n], ep.memory_gb, p.gpu_capacity_gb, scores)
            loaded_at[n] = np.where(new_a & ~a[n], t, loaded_at[n])
            a[n] = new_a
            evictions += ev
            x[n] = _offload_slot(
                a[n], R[n], R[n] * tokens_per_request * ep.joules_per_token, p.energy_budget_j, saving[n]
            )
        # Algorithm 1, lines 29-31: a model whose context window would overflow is evicted (refreshed)
        overflow = a & (K + model.edge_tokens(R, x, tokens_per_request) > ep.context_tokens)
        refreshes += int(overflow.sum())
        a &= ~overflow
        x[overflow] = 0.0
        K, kappa = model.aot_step(
            K, kappa, a, model.edge_tokens(R, x, tokens_per_request), ep.thought_tokens, p.vanishing_factor
        )
        out["cached"][t], out["edge"][t], out["K"][t], out["kappa"][t] = a, x, K, kappa
    return Trajectory(**out, evictions=evictions, refreshes=refreshes, policy=policy)


def relay_prices(ep: Episode, relay: Relay) -> tuple[float, float, float]:
    """(backhaul rate r^C, backhaul price per second, cloud price l_0) of the path to the cloud."""
    p = ep.params
    if relay == "satellite":
        return p.satellite_backhaul_bps, p.edge_access_cost_satellite, p.cloud_access_cost_satellite
    if relay == "ground":
        return p.ground_backhaul_bps, p.edge_access_cost_ground, p.cloud_access_cost_ground
    raise InputError("relay", f"unknown relay {relay!r} (allowed: {', '.join(RELAYS)})")


def access_link(ep: Episode, traj: Trajectory, relay: Relay) -> tuple[np.ndarray, float]:
    """(l_{n,i} [N, I], price per second) of the users' access link. In the satellite-enabled architecture
    (cloud-only over the satellite) users transmit to the satellite (eq. 2 with g_{u,0}, B_0), priced at
    ``satellite_access_cost`` per second of airtime; otherwise to their ground BS."""
    p = ep.params
    if traj.policy == "cloud" and relay == "satellite":
        return ep.satellite_access_s, p.satellite_access_cost
    return ep.access_s, p.edge_access_cost_ground


def cost_breakdown(ep: Episode, traj: Trajectory, relay: Relay) -> dict[str, np.ndarray]:
    """Every cost term of eqs. (21)-(26) per slot, BS and service, [T, N, I]."""
    p = ep.params
    R, x, a = ep.requests, traj.edge, traj.cached
    rate_c, backhaul_price, cloud_price = relay_prices(ep, relay)
    access_s, access_price = access_link(ep, traj, relay)
    a_prev = np.concatenate([np.zeros_like(a[:1]), a[:-1]], axis=0)
    return {
        "switching": model.switching_cost(a_prev, a, p.switch_cost),
        "transmission": model.transmission_cost(R, x, access_s, ep.data_bits / rate_c, access_price, backhaul_price),
        "computation": model.computation_cost(R, x, ep.cot_tokens, ep.flops_per_token, p.compute_flops, p.compute_cost),
        "accuracy": model.accuracy_cost(R, x, ep.alpha, ep.beta, traj.kappa, p.accuracy_weight),
        "cloud": model.cloud_cost(R, x, cloud_price),
    }


def violations(ep: Episode, traj: Trajectory) -> list[str]:
    """Names of broken constraints (3), (4), (5) and (28c) anywhere in the episode."""
    p = ep.params
    R, a, x = ep.requests, traj.cached, traj.edge
    checks = {
        "gpu_memory": np.any(model.memory_used_gb(a, ep.memory_gb) > p.gpu_capacity_gb * (1 + 1e-9)),
        "edge_without_cache": np.any(x > a),
        "energy": np.any(
            model.energy_used_j(R, x, ep.cot_tokens, ep.joules_per_token) > p.energy_budget_j * (1 + 1e-9)
        ),
        "context_window": np.any(traj.K > ep.context_tokens),
    }
    return [k for k, bad in checks.items() if bad]


def summarize(ep: Episode, traj: Trajectory, relay: Relay) -> dict[str, float]:
    """Episode averages per slot, summed over BSs: each cost term, the total (eq. 27) and cache statistics."""
    terms = cost_breakdown(ep, traj, relay)
    T = ep.params.T
    out = {f"{k}_cost": float(v.sum() / T) for k, v in terms.items()}
    out["avg_total_cost"] = float(sum(out[f"{k}_cost"] for k in COST_TERMS))
    per_bs = np.sum(list(terms.values()), axis=0).sum(axis=(0, 2)) / T  # L_n^total of eq. (27)
    requests = ep.requests.sum()
    edge = (ep.requests * traj.edge).sum()
    rate_c, _, _ = relay_prices(ep, relay)
    out.update(
        {
            "edge_share": float(edge / requests) if requests else 0.0,
            "loads": int((np.diff(np.concatenate([np.zeros_like(traj.cached[:1]), traj.cached]), axis=0) > 0).sum()),
            "evictions": traj.evictions,
            "refreshes": traj.refreshes,
            "mean_aot": float(traj.kappa[traj.cached > 0].mean()) if traj.cached.any() else 0.0,
            "mean_performance": float(_served_mean(ep, traj)),
            "satellite_relay_s": float(((1 - traj.edge) * ep.requests * ep.data_bits).sum() / rate_c)
            if relay == "satellite"
            else 0.0,
            "access_rate_bps": float(np.mean(ep.data_bits[None, :] / access_link(ep, traj, relay)[0])),
            "coverage_s": ep.coverage_s,
        }
    )
    out["per_bs_total_cost"] = per_bs.tolist()
    return out


def _served_mean(ep: Episode, traj: Trajectory) -> float:
    """Mean eq. (20) performance over edge-served requests (0 if none)."""
    served = ep.requests * traj.edge
    if served.sum() == 0:
        return 0.0
    perf = model.performance(ep.alpha, ep.beta, traj.kappa)
    return float((perf * served).sum() / served.sum())
