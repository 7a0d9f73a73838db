"""A reference for constellation-scale (sparse) instances: damped best response over (satellite,
sub-channel) options at full power, with the closed-form eq. (14) CPU split.

Each round, every terminal prices each of its options from the current state in one pass over the
visible pairs and sub-channels: the upload time at full power on that sub-channel against the
interference the satellite receives there now (less the terminal's own), plus the eq. (14) processing
time with its task added to the satellite's load. A terminal wants its cheapest option, or local when
that is faster or misses the deadline. A random share of the terminals that want to move does so; the
round is kept if the model's mean latency falls (the share grows by half) and undone otherwise (the
share halves). After every accepted move, offloaded terminals that miss the deadline go local until
none does: going local only removes interference and load, so this ends with a feasible decision.
It stops when nobody wants to move, the share falls below one terminal, or the budget is spent.
Choices: one sub-channel per terminal at full power (the dense reference's optima almost always use
one, docs/satellite-mec-solvers.md); no power refinement.
"""

from __future__ import annotations

import math

import numpy as np

from offloadlab.core.result import Tracker
from offloadlab.scenarios.satellite_mec import sparse
from offloadlab.scenarios.satellite_mec.sparse import SparseInstance

START_SHARE = 0.25
PAIR_BLOCK = 1 << 19  # pairs priced at once: the [I, block] temporaries stay near 64 MB at I = 16
MIN_GAIN = 1e-9  # seconds a move must save (relative): ties do not move


def decision(inst: SparseInstance, target: np.ndarray, channel: np.ndarray) -> dict[str, np.ndarray]:
    """The decision of targets [N] and sub-channels [N] at full power."""
    p = inst.params
    power = np.zeros((p.N, p.I))
    power[np.arange(p.N), channel] = p.p_max_w * (target > 0)
    return {"target": target.astype(float), "power_w": power}


def best_options(inst: SparseInstance, target: np.ndarray, channel: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each terminal's cheapest option from the current state: estimated latency [N] (inf without a
    visible satellite), target [N] and sub-channel [N]."""
    p = inst.params
    d = decision(inst, target, channel)
    tx = d["power_w"]
    received = sparse.received_w(inst, tx)
    idx, on = inst.pair_of(target)
    sat_now = np.where(on, inst.pair_sat.take(idx, mode="clip"), -1)
    load = np.bincount(sat_now[on], weights=inst.sqrt_cycles[on], minlength=p.M)
    cost = np.empty(inst.pairs)
    chan = np.empty(inst.pairs, dtype=np.int64)
    for lo in range(0, inst.pairs, PAIR_BLOCK):
        hi = min(lo + PAIR_BLOCK, inst.pairs)
        m, n = inst.pair_sat[lo:hi], inst.pair_terminal[lo:hi]
        g = inst.gain_t[:, lo:hi]
        interference = received.T[:, m] - g * tx.T[:, n]
        sinr = p.p_max_w * g / (np.maximum(interference, 0.0) + inst.noise_w)
        best = sinr.argmax(axis=0)
        rate = p.bandwidth_hz * np.log2(1.0 + sinr[best, np.arange(len(best))])
        own = np.where(sat_now.take(n) == m, inst.sqrt_cycles.take(n), 0.0)
        weight = inst.sqrt_cycles.take(n)
        with np.errstate(divide="ignore"):
            cost[lo:hi] = inst.data_bits.take(n) / rate + weight * (load.take(m) - own + weight) / p.f_sat_hz
        chan[lo:hi] = best
    # per terminal, the first pair (in terminal order) with the smallest cost
    order, starts = inst.by_terminal
    has = np.flatnonzero(inst.visible_count > 0)
    est = np.full(p.N, np.inf)
    pick = np.zeros(p.N, dtype=np.int64)
    if len(has):
        c = cost.take(order)
        est[has] = np.minimum.reduceat(c, starts[has])
        seg_min = np.repeat(est, inst.visible_count)
        pos = np.where(c <= seg_min, np.arange(inst.pairs), inst.pairs)
        pick[has] = order.take(np.minimum.reduceat(pos, starts[has]))
    return est, inst.pair_sat.take(pick).astype(np.int64) + 1, chan.take(pick)


def _feasible(
    inst: SparseInstance, target: np.ndarray, channel: np.ndarray, tracker: Tracker
) -> tuple[float, np.ndarray]:
    """Send offloaded terminals that miss the deadline home until none does (in place): the mean latency
    and the latencies [N] of the feasible decision."""
    while True:
        lat, _ = sparse.latency_one(inst, target, decision(inst, target, channel)["power_w"])
        late = (target > 0) & ~(lat <= inst.params.deadline_s)
        tracker.record(1, math.inf if late.any() else float(lat.mean()))
        if not late.any():
            return float(lat.mean()), lat
        target[late] = 0


def scale_reference(
    inst: SparseInstance, rng: np.random.Generator, tracker: Tracker, rounds: int = 60
) -> tuple[dict[str, np.ndarray], int]:
    """Damped best response from all-local; returns the decision and the rounds run."""
    p = inst.params
    target = np.zeros(p.N, dtype=np.int64)
    channel = np.zeros(p.N, dtype=np.int64)
    best, lat = _feasible(inst, target, channel, tracker)
    share, done = START_SHARE, 0
    while done < rounds and share * p.N >= 1 and not tracker.exhausted:
        done += 1
        est, want, want_ch = best_options(inst, target, channel)
        go_sat = (est < inst.local_latency_s) & (est <= p.deadline_s)
        new_t, new_c = np.where(go_sat, want, 0), np.where(go_sat, want_ch, 0)
        changes = (new_t != target) | ((new_c != channel) & (new_t > 0))
        movers = np.flatnonzero(changes & (np.minimum(est, inst.local_latency_s) < lat * (1 - MIN_GAIN)))
        if len(movers) == 0:
            break
        moved = movers[rng.random(len(movers)) < share]
        trial_t, trial_c = target.copy(), channel.copy()
        trial_t[moved], trial_c[moved] = new_t[moved], new_c[moved]
        value, trial_lat = _feasible(inst, trial_t, trial_c, tracker)
        if value < best:
            best, lat, target, channel = value, trial_lat, trial_t, trial_c
            share = min(1.0, share * 1.5)
        else:
            share /= 2
    return decision(inst, target, channel), done
