"""Loop-based, scalar transcription of eqs. (1)-(8) and (14) of seed 000, for checking the vectorized model."""

from __future__ import annotations

import math


def slant_range(e_deg: float, re: float, rh: float) -> float:
    """Eqs. (1)-(2)."""
    e = math.radians(e_deg)
    theta = math.acos(re / (re + rh) * math.cos(e)) - e
    return math.sqrt(re**2 + (re + rh) ** 2 - 2 * re * (re + rh) * math.cos(theta))


def latencies(inst, alpha, power, interference="physical"):
    """Per-terminal latency for one decision, written as the paper's sums."""
    p = inst.params
    M, N, I = p.M, p.N, p.I
    c = 299_792_458.0
    gn = 10 ** (p.antenna_gain_dbi / 10)
    n0 = 10 ** ((p.noise_dbm - 30) / 10)
    G = [
        [
            [
                gn
                * (
                    c
                    / (4 * math.pi * p.carrier_hz * slant_range(inst.elevation_deg[m], p.earth_radius_m, p.altitude_m))
                )
                ** 2
                * inst.fading_power[m][n][i]
                for i in range(I)
            ]
            for n in range(N)
        ]
        for m in range(M)
    ]
    beta = [[1 if power[n][i] > 0 else 0 for i in range(I)] for n in range(N)]
    out = []
    for n in range(N):
        eps = inst.data_bits[n]
        target = [m for m in range(M) if alpha[m][n] == 1]
        if not target:
            out.append(eps * p.rho_cycles_per_bit / p.f_iot_hz)  # eq. (6)
            continue
        m = target[0]
        rate = 0.0
        for i in range(I):
            interf = 0.0
            for k in range(N):
                if k == n:
                    continue
                for mk in range(M):
                    if alpha[mk][k] == 1:
                        g = G[m][k][i] if interference == "physical" else G[mk][k][i]
                        interf += beta[k][i] * power[k][i] * g
            sig = alpha[m][n] * beta[n][i] * power[n][i] * G[m][n][i]
            rate += p.bandwidth_hz * math.log2(1 + sig / (interf + n0))  # eq. (4)
        t_trans = eps / rate if rate > 0 else math.inf  # eq. (5)
        denom = sum(alpha[m][k] * math.sqrt(inst.data_bits[k] * p.rho_cycles_per_bit) for k in range(N))
        f = p.f_sat_hz * math.sqrt(eps * p.rho_cycles_per_bit) / denom  # eq. (14)
        out.append(eps * p.rho_cycles_per_bit / f + t_trans)  # eqs. (7)-(8)
    return out
