"""Reference solver: iterated best-improvement local search over per-terminal (target, power
pattern) moves with restarts and kicks, then continuous power refinement; plus exhaustive enumeration for tiny
instances, which the tests use to show that the local search reaches the grid optimum."""

from __future__ import annotations

import itertools
import math

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.core.resources import check_batch
from offloadlab.core.result import Tracker
from offloadlab.scenarios.satellite_mec import model
from offloadlab.scenarios.satellite_mec.model import SatMecInstance
from offloadlab.scenarios.satellite_mec.problem import PROBLEM

MAX_PATTERNS = 5000


def power_patterns(I: int, levels: int) -> np.ndarray:
    """All nonzero power splits over I sub-channels in units of P_IoT/levels, total <= P_IoT.

    Returned as fractions of P_IoT, shape [K, I]; K = C(levels + I, I) - 1 (69 for I = 4, levels = 4).
    The grid is coarsened when K would exceed MAX_PATTERNS.
    """
    while levels > 1 and math.comb(levels + I, I) - 1 > MAX_PATTERNS:
        levels -= 1
    if math.comb(levels + I, I) - 1 > MAX_PATTERNS:
        raise InputError("params.I", f"{I} sub-channels give too many power patterns for the reference grid")
    pats = [c for c in _compositions(I, levels) if sum(c) > 0]
    return np.asarray(pats, dtype=float) / levels


def _compositions(parts: int, at_most: int):
    """Non-negative integer vectors of length ``parts`` with sum <= ``at_most``."""
    if parts == 0:
        yield ()
        return
    for first in range(at_most + 1):
        for rest in _compositions(parts - 1, at_most - first):
            yield (first, *rest)


def options(inst: SatMecInstance, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-terminal options: target index (-1 = local) [K'] and power fractions [K', I]."""
    p = inst.params
    pats = power_patterns(p.I, levels)
    targets = np.concatenate([[-1], np.repeat(np.arange(p.M), len(pats))])
    powers = np.concatenate([np.zeros((1, p.I)), np.tile(pats, (p.M, 1))])
    return targets, powers


def penalised_score(inst: SatMecInstance, offload: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Mean latency plus a steep penalty on deadline excess; equals mean latency when feasible."""
    lat = np.minimum(model.latency_s(inst, offload, power), PROBLEM.objective_cap)
    excess = np.clip(lat - inst.params.deadline_s, 0.0, None)
    return lat.mean(axis=1) + 1e3 * excess.mean(axis=1)


def _apply_option(
    inst: SatMecInstance, alpha: np.ndarray, pw: np.ndarray, n: int, targets: np.ndarray, powers: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Batch of copies of (alpha, pw) with terminal n set to each option."""
    K = len(targets)
    A = np.repeat(alpha[None], K, axis=0)
    P = np.repeat(pw[None], K, axis=0)
    A[:, :, n] = 0.0
    on = targets >= 0
    A[np.flatnonzero(on), targets[on], n] = 1.0
    P[:, n, :] = powers * inst.params.p_max_w
    return A, P


def local_search(
    inst: SatMecInstance,
    alpha: np.ndarray,
    pw: np.ndarray,
    targets: np.ndarray,
    powers: np.ndarray,
    rng: np.random.Generator,
    tracker: Tracker,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Best-improvement moves of one terminal at a time until no move improves the score."""
    score = float(penalised_score(inst, alpha[None], pw[None])[0])
    improved = True
    while improved and not tracker.exhausted:
        improved = False
        for n in rng.permutation(inst.params.N):
            A, P = _apply_option(inst, alpha, pw, n, targets, powers)
            s = penalised_score(inst, A, P)
            tracker.record(len(s), float(s.min()))
            k = int(np.argmin(s))
            if s[k] < score - 1e-12:
                alpha, pw, score, improved = A[k], P[k], float(s[k]), True
            if tracker.exhausted:
                break
    return alpha, pw, score


def refine_power(
    inst: SatMecInstance, alpha: np.ndarray, pw: np.ndarray, tracker: Tracker, min_step: float = 1 / 256
) -> tuple[np.ndarray, np.ndarray, float]:
    """Continuous refinement: move power between sub-channels and scale it, halving the step."""
    par = inst.params
    I = par.I
    score = float(penalised_score(inst, alpha[None], pw[None])[0])
    pairs = [(i, j) for i in range(I) for j in range(I) if i != j]
    step = 0.25
    while step >= min_step and not tracker.exhausted:
        improved = False
        for n in np.flatnonzero(alpha.sum(axis=0) > 0):
            cur = pw[n]
            cands = []
            for i, j in pairs:  # shift a share of channel i's power to channel j
                c = cur.copy()
                d = step * max(cur[i], step * par.p_max_w)
                d = min(d, cur[i])
                c[i] -= d
                c[j] += d
                cands.append(c)
            for i in range(I):  # raise or lower one channel
                for sgn in (1.0, -1.0):
                    c = cur.copy()
                    c[i] = max(0.0, c[i] + sgn * step * par.p_max_w)
                    cands.append(c)
            C = np.asarray(cands)
            tot = C.sum(axis=1, keepdims=True)
            C = np.where(tot > par.p_max_w, C * par.p_max_w / np.maximum(tot, 1e-300), C)
            P = np.repeat(pw[None], len(C), axis=0)
            P[:, n, :] = C
            A = np.repeat(alpha[None], len(C), axis=0)
            s = penalised_score(inst, A, P)
            tracker.record(len(s), float(s.min()))
            k = int(np.argmin(s))
            if s[k] < score - 1e-12:
                pw, score, improved = P[k], float(s[k]), True
        if not improved:
            step /= 2
    return alpha, pw, score


def reference_search(
    inst: SatMecInstance,
    rng: np.random.Generator,
    tracker: Tracker,
    *,
    restarts: int = 4,
    kicks: int | None = None,
    power_levels: int = 4,
    refine: bool = True,
    start: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Iterated local search: from all-local and random starts, descend with one-terminal moves,
    then kick the incumbent (re-draw the options of two to three terminals) and descend again,
    keeping the better; finally refine the best powers continuously."""
    par = inst.params
    targets, powers = options(inst, power_levels)
    check_batch(inst, len(targets), "option power_levels")  # one move scores every option of a terminal at once
    kicks = 2 * par.N if kicks is None else kicks
    starts = list(start or [])
    starts.append((np.zeros((par.M, par.N)), np.zeros((par.N, par.I))))
    rand = PROBLEM.random_decisions(inst, rng, max(restarts - 1, 0))
    starts += [(rand["offload"][r], rand["power_w"][r]) for r in range(max(restarts - 1, 0))]
    best: tuple[np.ndarray | None, np.ndarray | None, float] = (None, None, np.inf)
    for alpha, pw in starts:
        if tracker.exhausted:
            break
        a, p, s = local_search(inst, alpha.copy(), pw.copy(), targets, powers, rng, tracker)
        for _ in range(kicks):
            if tracker.exhausted:
                break
            ka, kp = a.copy(), p.copy()
            for n in rng.choice(par.N, size=min(par.N, int(rng.integers(2, 4))), replace=False):
                k = int(rng.integers(len(targets)))
                ka, kp = (x[0] for x in _apply_option(inst, ka, kp, n, targets[k : k + 1], powers[k : k + 1]))
            ka, kp, ks = local_search(inst, ka, kp, targets, powers, rng, tracker)
            if ks < s - 1e-12:
                a, p, s = ka, kp, ks
        if s < best[2]:
            best = (a, p, s)
    best_alpha, best_pw, _ = best
    assert best_alpha is not None and best_pw is not None  # every restart yields a decision
    if refine:
        best_alpha, best_pw, _ = refine_power(inst, best_alpha, best_pw, tracker)
    return best_alpha, best_pw


def exhaustive_search(
    inst: SatMecInstance, tracker: Tracker, power_levels: int = 2, max_combinations: int = 2_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Enumerate every combination of per-terminal options on the power grid (tiny instances only)."""
    par = inst.params
    targets, powers = options(inst, power_levels)
    K = len(targets)
    total = K**par.N
    if total > max_combinations:
        raise InputError(
            "instance",
            f"{total} combinations exceed the exhaustive limit {max_combinations}; "
            "use a smaller M, N, I or power_levels",
        )
    best_s, best = np.inf, None  # type: tuple[float, tuple[np.ndarray, np.ndarray] | None]
    combos = np.asarray(list(itertools.product(range(K), repeat=par.N)))
    for chunk in np.array_split(combos, max(1, len(combos) // 4096)):
        B = len(chunk)
        A = np.zeros((B, par.M, par.N))
        tn = targets[chunk]  # [B, N]
        b_idx, n_idx = np.nonzero(tn >= 0)
        A[b_idx, tn[b_idx, n_idx], n_idx] = 1.0
        P = powers[chunk] * par.p_max_w  # [B, N, I]
        s = penalised_score(inst, A, P)
        tracker.record(B, float(s.min()))
        k = int(np.argmin(s))
        if s[k] < best_s:
            best_s, best = float(s[k]), (A[k], P[k])
    assert best is not None  # the grid always has the all-local option
    return best
