"""Sparse model of seed 000 at constellation scale: only the visible (satellite, terminal) pairs exist.

An instance holds P visible pairs (``pair_sat``, ``pair_terminal``, sorted by satellite then terminal)
with each pair's elevation, slant range and Rician fading per sub-channel. A decision is one target per
terminal (``target[n]`` = 0 for local, m + 1 for satellite m, which must see n) and its powers
``power_w[n][i]``. Eqs. (1)-(8) and the eq. (14) CPU split are those of ``model``; the interference at
satellite m on sub-channel i sums, over the pairs of m, the gain times the power of every transmitting
terminal, less the own signal: one sparse matrix-vector product per sub-channel (CSR over the pairs).
Cost: O(P x I) per decision and no [M, N, I] array.
On an instance where every pair is visible this equals the dense model (``from_dense``; tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from offloadlab.core.config import check_seed, instance_header, parse_params
from offloadlab.core.errors import InputError
from offloadlab.core.problem import Evaluation
from offloadlab.core.resources import check_memory
from offloadlab.core.space import ArrayField, DecisionSpace
from offloadlab.physics.radio import free_space_gain
from offloadlab.physics.units import db_to_linear
from offloadlab.scenarios.satellite_mec.model import (
    POWER_TOL,
    SCENARIO_ID,
    SatMecInstance,
    TaskTerms,
    _checked_array,
    constraints,
    power_field,
    rate_from_terms,
)
from offloadlab.scenarios.satellite_mec.scale_params import ScaleParams

PAIR_FIELDS = ("pair_sat", "pair_terminal", "pair_elevation_deg", "pair_range_m", "pair_fading_power")


@dataclass(frozen=True, eq=False)
class SparseInstance(TaskTerms):
    """Visible pairs with their geometry and fading, and the task sizes; ``extra`` holds what the generator
    records (terminal coordinates, TLEs, seed) and what evaluation does not read."""

    params: ScaleParams
    pair_sat: np.ndarray  # [P] int32, sorted
    pair_terminal: np.ndarray  # [P] int32, sorted within a satellite
    pair_elevation_deg: np.ndarray  # [P]
    pair_range_m: np.ndarray  # [P]
    pair_fading_power: np.ndarray  # [P, I], |h|^2
    data_bits: np.ndarray  # [N]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        """Number of visible pairs P."""
        return len(self.pair_sat)

    @cached_property
    def gain_t(self) -> np.ndarray:
        """Channel gain [I, P] of each pair, eq. (3) with the pair's own slant range, linear; laid out
        sub-channel-major so that the per-satellite sums run along contiguous rows."""
        p = self.params
        path = db_to_linear(p.antenna_gain_dbi) * free_space_gain(self.pair_range_m, p.carrier_hz)
        # order="C": a product with the transposed [P, I] fading would otherwise come out [P, I] in memory,
        # and every sub-channel's row would be strided (a copy per matrix-vector product)
        return np.multiply(self.pair_fading_power.T, path, dtype=float, order="C")

    @cached_property
    def pair_matrix(self) -> csr_matrix:
        """The visible pairs as a sparse [M, N] matrix (rows = satellites) sharing the pair index arrays;
        ``received_w`` points its data at one sub-channel's gains at a time (the constructor would copy)."""
        p = self.params
        index = np.int32 if self.pairs < 2**31 else np.int64
        indptr = np.searchsorted(self.pair_sat, np.arange(p.M + 1)).astype(index)
        indices = self.pair_terminal.astype(index, copy=False)
        return csr_matrix((np.zeros(self.pairs), indices, indptr), shape=(p.M, p.N), copy=False)

    @cached_property
    def pair_key(self) -> np.ndarray:
        """sat * N + terminal of each pair, ascending: finds the pair of (m, n) by binary search."""
        return self.pair_sat.astype(np.int64) * self.params.N + self.pair_terminal

    @cached_property
    def by_terminal(self) -> tuple[np.ndarray, np.ndarray]:
        """Pairs grouped by terminal: the pair indices in terminal order [P] and each terminal's start [N + 1]."""
        order = np.argsort(self.pair_terminal, kind="stable")
        starts = np.searchsorted(self.pair_terminal[order], np.arange(self.params.N + 1))
        return order, starts

    @cached_property
    def visible_count(self) -> np.ndarray:
        """Satellites each terminal sees, [N]."""
        return np.diff(self.by_terminal[1])

    def pair_of(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For targets [N] (0 = local, m + 1 = satellite m): the pair index of each offloading terminal
        (clipped, meaningless where not visible) and whether (target - 1, n) is a visible pair."""
        N = self.params.N
        key = (target.astype(np.int64) - 1) * N + np.arange(N)
        # sorted queries walk the sorted keys in order: several times faster than random probes at 1e6 pairs
        order = np.argsort(key)
        idx = np.empty(N, dtype=np.int64)
        idx[order] = np.searchsorted(self.pair_key, key[order])
        np.minimum(idx, max(self.pairs - 1, 0), out=idx)
        if self.pairs == 0:
            return idx, np.zeros(N, dtype=bool)
        return idx, (target > 0) & (self.pair_key.take(idx) == key)

    def to_data(self) -> dict[str, Any]:
        """The instance as named arrays (JSON lists when written as .json, arrays in a .npz)."""
        return {
            "scenario": SCENARIO_ID,
            "params": self.params.model_dump(),
            **{name: getattr(self, name) for name in PAIR_FIELDS},
            "data_bits": self.data_bits,
            **self.extra,
        }


def load_sparse(data: Mapping[str, Any]) -> SparseInstance:
    """Validate a sparse instance (lists or arrays): shapes, index ranges, ordering, finiteness."""
    instance_header(data, SCENARIO_ID, ("params", *PAIR_FIELDS, "data_bits"))
    params = parse_params(ScaleParams, data["params"])
    M, N, I = params.M, params.N, params.I
    sat = _index_array(data["pair_sat"], "pair_sat", M)
    P = len(sat)
    check_memory("instance", params.estimate_bytes(pairs=P), f"this instance ({P} visible pairs)")
    term = _index_array(data["pair_terminal"], "pair_terminal", N, P)
    key = sat.astype(np.int64) * N + term
    if P > 1 and not np.all(key[1:] > key[:-1]):
        raise InputError("pair_sat", "pairs must be sorted by satellite, then terminal, without repeats")
    elev = _checked_array(data["pair_elevation_deg"], "pair_elevation_deg", (P,), 0.0, 90.0)
    rng_m = _checked_array(data["pair_range_m"], "pair_range_m", (P,), 0.0, 1e9, low_open=True)
    fading = _checked_array(data["pair_fading_power"], "pair_fading_power", (P, I), 0.0, np.inf)
    bits = _checked_array(data["data_bits"], "data_bits", (N,), 0.0, 8e12, low_open=True)
    extra = {k: v for k, v in data.items() if k not in {"scenario", "params", *PAIR_FIELDS, "data_bits"}}
    if "seed" in extra:
        extra["seed"] = check_seed(int(extra["seed"]) if isinstance(extra["seed"], np.integer) else extra["seed"])
    return SparseInstance(params, sat, term, elev, rng_m, fading, bits, extra)


def _index_array(value: Any, name: str, bound: int, length: int | None = None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1 or (length is not None and len(arr) != length):
        raise InputError(name, f"must be a list of {length if length is not None else 'P'} integers")
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise InputError(name, "must hold integers")
    if len(arr) and (arr.min() < 0 or arr.max() >= bound):
        raise InputError(name, f"indices must lie in [0, {bound - 1}]")
    return arr.astype(np.int32)


def from_dense(inst: SatMecInstance) -> SparseInstance:
    """The dense instance with every pair visible, as a sparse one (same gains, bit for bit)."""
    p = inst.params
    sat, term = np.divmod(np.arange(p.M * p.N), p.N)
    params = ScaleParams.model_validate({**p.model_dump(), "planes": p.M, "per_plane": 1, "inclination_deg": 53.0})
    return SparseInstance(
        params,
        sat.astype(np.int32),
        term.astype(np.int32),
        inst.elevation_deg[sat],
        inst.distance_m[sat],
        inst.fading_power.reshape(p.M * p.N, p.I),
        inst.data_bits,
    )


def decision_space(inst: SparseInstance) -> DecisionSpace:
    """target as [N] integers in [0, M] and P as [N, I] in [0, P_IoT] watts."""
    p = inst.params
    return DecisionSpace(
        fields=(
            ArrayField(
                "target",
                (p.N,),
                0,
                p.M,
                integer=True,
                description="target[n] = 0 if terminal n computes locally, m + 1 to offload to satellite m",
            ),
            power_field(p),
        ),
        constraints=("a terminal offloads only to a satellite that sees it (a visible pair)", *constraints(p)),
    )


def received_w(inst: SparseInstance, tx: np.ndarray) -> np.ndarray:
    """Power received [M, I] at each satellite on each sub-channel from the transmit powers tx [N, I]:
    per sub-channel, the sparse [M, N] gain matrix of the visible pairs times the powers."""
    tx_t = np.ascontiguousarray(tx.T)
    mat = inst.pair_matrix
    out = np.empty((inst.params.M, inst.params.I))
    for i, gains in enumerate(inst.gain_t):
        if not tx_t[i].any():  # nobody transmits on this sub-channel (e.g. all-local)
            out[:, i] = 0.0
            continue
        mat.data = gains  # same sparsity for every sub-channel: only the values change
        out[:, i] = mat @ tx_t[i]
    return out


def latency_one(inst: SparseInstance, target: np.ndarray, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-terminal latency [N] of one decision (eq. (8) with the eq. (14) split) and the visibility mask
    of its targets; a terminal whose target does not see it is counted as local (and reported)."""
    par = inst.params
    idx, visible = inst.pair_of(target)
    sat = inst.pair_sat.take(idx, mode="clip")
    tx = np.maximum(power, 0.0) * visible[:, None]  # only offloading terminals transmit
    signal = inst.gain_t[:, idx].T * tx
    if par.interference == "physical":
        denom = received_w(inst, tx).take(sat, axis=0) - signal
    else:
        denom = signal.sum(axis=0, keepdims=True) - signal
    rate = rate_from_terms(signal, denom, inst.noise_w, par.bandwidth_hz, visible)
    load = np.bincount(sat[visible], weights=inst.sqrt_cycles[visible], minlength=par.M)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_trans = inst.data_bits / rate
        t_sat = load.take(sat) * (inst.sqrt_cycles / par.f_sat_hz)
        t_sat += t_trans
    return np.where(visible, t_sat, inst.local_latency_s), visible


def evaluate(inst: SparseInstance, target: np.ndarray, power: np.ndarray) -> Evaluation:
    """Evaluate B decisions (target [B, N], power [B, N, I]; unbatched accepted), one at a time."""
    par = inst.params
    t = np.asarray(target, dtype=float)
    p = np.asarray(power, dtype=float)
    t, p = (t[None] if t.ndim == 1 else t), (p[None] if p.ndim == 2 else p)
    if t.shape[1:] != (par.N,) or p.shape[1:] != (par.N, par.I) or len(t) != len(p):
        raise InputError(
            "decision",
            f"batched shapes {list(t.shape)} and {list(p.shape)} do not match [B, {par.N}] and [B, {par.N}, {par.I}]",
        )
    whole = (t == np.round(t)) & (t >= 0) & (t <= par.M)
    rows = [latency_one(inst, np.where(whole[b], t[b], 0).astype(np.int64), p[b]) for b in range(len(t))]
    lat = np.array([r[0] for r in rows]).reshape(len(t), par.N)
    unseen = np.array([((t[b] != 0) & ~r[1]).any() for b, r in enumerate(rows)], dtype=bool)
    mean = lat.mean(axis=1)
    checks = {
        "target_not_visible": unseen,
        "negative_power": p.min(axis=(1, 2)) < 0,
        "power_budget": (p.sum(axis=2) > par.p_max_w * (1 + POWER_TOL)).any(axis=1),
        "deadline": np.any(~(lat <= par.deadline_s * (1 + 1e-12)), axis=1),
    }
    return Evaluation.from_checks(mean, checks, {"latency_s": lat, "mean_latency_s": mean})
