"""Links and the seamless data transmission of Sec. VII (eqs. 27-30, Algorithm 4), vectorised over tasks.

Corrections (docs/leo-inference.md): the loss factor of eqs. (1) and (28)-(30) is read as goodput,
delay = bits / (rate (1 - p)) and bits / (min(k_ij, l) (1 - p_ij)(1 - p)) over a relay (taken literally,
t p / l makes a lossier link faster); a relay is judged against its own remaining window T_a(j) (against
T_a(i), as printed, a relay could never help because min(k_ij, l) <= l); the other-orbit relay with the
minimum delay is chosen (Algorithm 4 line 24; the text says maximum; ``relay_pick`` switches).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray

from offloadlab.physics.orbits import SPEED_OF_LIGHT_KM_S, epoch_jd, line_of_sight, propagate_ecef
from offloadlab.scenarios.leo_inference.instance import LeoInstance

NONE, DIRECT, SAME_ORBIT, OTHER_ORBIT = 0, 1, 2, 3
PATH_NAMES = ("none", "direct", "same-orbit relay", "other-orbit relay")


@dataclass(frozen=True)
class Paths:
    """Per task: path kind, relay satellite (-1 without), seconds to deliver the raw data, seconds to
    return the result, the remaining window the path was judged against, and the path's rate."""

    kind: np.ndarray
    relay: np.ndarray
    up_s: np.ndarray
    back_s: np.ndarray
    window_s: np.ndarray


def goodput_delay(bits: np.ndarray, rate_bps: np.ndarray | float, *losses: float) -> np.ndarray:
    """Seconds to deliver ``bits`` at ``rate_bps`` through links with the given packet loss rates."""
    keep = np.prod([1.0 - x for x in losses]) if losses else 1.0
    return np.asarray(bits, float) / (np.asarray(rate_bps, float) * keep)


def isl_rate_bps(distance_km: np.ndarray, window_bits: float, extra_rtt_s: float, capacity_bps: float) -> np.ndarray:
    """k_ij = C_ij / RTT with RTT = 2 d / c + processing, capped by the ISL capacity."""
    rtt = 2.0 * np.asarray(distance_km, float) / SPEED_OF_LIGHT_KM_S + extra_rtt_s
    return np.minimum(window_bits / rtt, capacity_bps)


def remaining_window(inst: LeoInstance, sats: np.ndarray, t: np.ndarray) -> np.ndarray:
    """T_a (eq. 27): seconds left in the contact window (any station) of ``sats`` [N, J] at ``t`` [N]; 0 outside."""
    w = inst.windows
    if w.sat.size == 0:
        return np.zeros(sats.shape)
    inside = (w.start_s[None, :] <= t[:, None]) & (t[:, None] < w.end_s[None, :])
    rem = np.where(inside, w.end_s[None, :] - t[:, None], 0.0)  # [N, W]
    per_sat = np.zeros((t.size, inst.params.satellites))
    np.maximum.at(per_sat.T, w.sat, rem.T)  # per-satellite maximum over its windows
    return np.take_along_axis(per_sat, sats, axis=1)


def own_uplink_busy(inst: LeoInstance, direct_s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """[N, K]: satellite j is "busy" at task time t_n if one of its own tasks arrived at a <= t_n with
    a + (its direct transmission time) >= t_n, i.e. its own uplink would be sending (decision-independent,
    pessimistic: it assumes every satellite offloads its own tasks). Loop over satellites, vectorised over tasks."""
    out = np.zeros((t.size, inst.params.satellites), dtype=bool)
    for j in range(inst.params.satellites):
        own = inst.task_sat == j
        if not own.any():
            continue
        a = inst.task_t[own]
        end = np.maximum.accumulate(a + direct_s[own])
        idx = np.searchsorted(a, t, side="right") - 1
        out[:, j] = (idx >= 0) & (end[np.maximum(idx, 0)] >= t)
    return out


def select_paths(inst: LeoInstance) -> Paths:
    """Algorithm 4 for every task: direct if the need fits the satellite's remaining window, else an idle
    same-orbit neighbour whose window fits the relayed need, else an idle other-orbit satellite in ISL range,
    else none (the task must run locally). Case I (results returned) adds the result and c(m_e)."""
    p = inst.params
    n, k = inst.n_tasks, p.satellites
    bits, res_bits = inst.task_bits, p.result_kb * 8000.0
    wait = p.server_task_s if p.return_results else 0.0
    back_bits = res_bits if p.return_results else 0.0
    up_direct = goodput_delay(bits, p.ground_rate_bps, p.ground_loss)
    back_direct = goodput_delay(np.full(n, back_bits), p.ground_rate_bps, p.ground_loss)
    need_direct = up_direct + back_direct + wait
    i = inst.task_sat
    if p.contact_model == "always":
        return Paths(np.full(n, DIRECT), np.full(n, -1), up_direct, back_direct, np.full(n, np.inf))
    t = inst.task_t
    ta = remaining_window(inst, np.broadcast_to(np.arange(k), (n, k)), t)  # [N, K]
    ta_i = ta[np.arange(n), i]
    direct = need_direct <= ta_i
    kind, relay = np.where(direct, DIRECT, NONE), np.full(n, -1)
    up, back, window = up_direct.copy(), back_direct.copy(), ta_i.copy()
    todo = np.flatnonzero(~direct)
    if todo.size and k > 1:
        pos = _positions(inst, t[todo])  # [K, n_todo, 3]
        cols = np.arange(todo.size)
        me = pos[i[todo], cols]  # [n_todo, 3]
        others = np.moveaxis(pos, 0, 1)  # [n_todo, K, 3]
        dist = np.linalg.norm(others - me[:, None, :], axis=-1)
        los = line_of_sight(np.broadcast_to(me[:, None, :], others.shape), others)
        rate = np.minimum(isl_rate_bps(dist, p.isl_window_bits, p.isl_extra_rtt_s, p.isl_rate_bps), p.ground_rate_bps)
        up_r = goodput_delay(bits[todo, None], rate, p.isl_loss, p.ground_loss)
        back_r = goodput_delay(np.full((todo.size, 1), back_bits), rate, p.isl_loss, p.ground_loss)
        need_r = up_r + back_r + wait
        busy = own_uplink_busy(inst, up_direct, t[todo])
        plane, slot = inst.plane, inst.slot
        size = np.bincount(plane)[plane]
        same = (plane[None, :] == plane[i[todo], None]) & (
            ((slot[None, :] - slot[i[todo], None]) % size[None, :] == 1)
            | ((slot[i[todo], None] - slot[None, :]) % size[None, :] == 1)
        )
        other = (plane[None, :] != plane[i[todo], None]) & (dist <= p.isl_max_range_km)
        ok = los & ~busy & (np.arange(k)[None, :] != i[todo, None])
        kind[todo], relay[todo] = algorithm4(need_r, ta[todo], same & ok, other & ok, p.relay_pick)
        hit = kind[todo] != NONE
        rows, j = todo[hit], relay[todo][hit]
        up[rows], back[rows], window[rows] = up_r[hit, j], back_r[hit, j], ta[rows, j]
    return Paths(kind, relay, up, back, window)


def algorithm4(
    need: np.ndarray, window: np.ndarray, same: np.ndarray, other: np.ndarray, pick: str = "min"
) -> tuple[np.ndarray, np.ndarray]:
    """Relay choice of Algorithm 4 for tasks whose direct path does not fit, all arrays [n, K]: ``need`` is the
    relayed delivery time over each satellite, ``window`` its remaining window T_a(j), ``same``/``other``
    mark usable (idle, in sight) same-orbit neighbours and other-orbit satellites. Same orbit first (the
    fastest fitting neighbour), then other orbits (``pick``: 'min' delay as line 24, 'max' as the text),
    else none. Returns (kind [n], relay [n], -1 without)."""
    fits = need <= window
    kind, relay = np.full(need.shape[0], NONE), np.full(need.shape[0], -1)
    for cand, label, how in ((same & fits, SAME_ORBIT, "min"), (other & fits, OTHER_ORBIT, pick)):
        free = kind == NONE
        score = np.where(cand, need, np.inf if how == "min" else -np.inf)
        j = score.argmin(axis=1) if how == "min" else score.argmax(axis=1)
        hit = free & cand[np.arange(need.shape[0]), j]
        kind[hit], relay[hit] = label, j[hit]
    return kind, relay


def _positions(inst: LeoInstance, t: np.ndarray) -> np.ndarray:
    """Earth-fixed positions [K, n, 3] of all satellites at the task times, on the window-search grid."""
    step = inst.params.window_step_s
    grid = np.arange(int(np.ceil(inst.horizon_s / step)) + 1) * step
    jd0, fr0 = epoch_jd(inst.epoch)
    pos, _ = propagate_ecef(SatrecArray(inst.satrecs), jd0, fr0, grid)
    return pos[:, np.minimum(np.rint(t / step).astype(int), grid.size - 1)]
