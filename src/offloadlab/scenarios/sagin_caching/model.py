"""Pure, vectorized model of seed 001: AoT (eqs. 18-20), cost terms (eqs. 21-27), constraints (3)-(5),
uplink rates (eq. 2) to ground BSs (Rayleigh) and to the satellite (shadowed-Rician), and satellite coverage
time (eq. 1).

Index convention: arrays [..., N, I] over ground BSs n and services i. Each service i runs one model
m(i) (the paper's random service-to-model mapping), so a_{n,i,m} is stored as ``a[..., n, i]``.
Offloading is stored as the edge share ``x = a (1 - b)`` in [0, 1]: the paper's b in eqs. (22)-(26)
is the share sent to the cloud, 1 - x. (Eq. (4) and Algorithm 1 use b for the edge share; storing x
removes the ambiguity.) Every function broadcasts over leading dimensions.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from offloadlab.physics.cellular import macro_path_loss_db
from offloadlab.physics.geometry import geocentric_angle_rad, slant_range_m
from offloadlab.physics.radio import free_space_gain, shannon_rate_bps
from offloadlab.physics.units import db_to_linear, dbm_to_w

COST_TERMS = ("switching", "transmission", "computation", "accuracy", "cloud")
Relay = Literal["ground", "satellite"]
Shadowing = Literal["light", "average", "heavy"]
# Shadowed-Rician land-mobile-satellite channel (Abdi, Lau, Alouini, Kaveh, IEEE TWC 2(3), 2003, fitted to
# measured channels): (b, m, Omega) = half the scatter power, Nakagami m of the line of sight, LOS power, for
# infrequent light, average and frequent heavy shadowing.
SHADOWED_RICIAN: dict[str, tuple[float, float, float]] = {
    "light": (0.158, 19.4, 1.29),
    "average": (0.126, 10.1, 0.835),
    "heavy": (0.063, 0.739, 8.97e-4),
}


# --- age of thought (eqs. 18-20) ---------------------------------------------------------------


def aot_step(
    K_prev: np.ndarray | float,
    kappa_prev: np.ndarray,
    cached: np.ndarray,
    edge_tokens: np.ndarray,
    thought_tokens: np.ndarray | float,
    vanishing: float,
) -> tuple[np.ndarray, np.ndarray]:
    """One slot of eq. (18) (context tokens K) and eq. (19) (AoT kappa).

    ``edge_tokens`` is delta = a (1 - b) R k; kappa grows by delta / ``thought_tokens`` (k_i to count AoT in
    CoT examples, 1 for the literal token reading) and loses ``vanishing`` (Delta) per slot, floored at 0.
    An evicted model (cached = 0) restarts from K = kappa = 0.
    """
    a = np.asarray(cached, dtype=float)
    K = a * (K_prev + edge_tokens)
    kappa = a * np.maximum(kappa_prev + edge_tokens / thought_tokens - vanishing, 0.0)
    return K, kappa


def performance(alpha: np.ndarray, beta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Few-shot CoT performance A = alpha log(1 / beta^kappa) = alpha kappa log(1/beta), eq. (20)."""
    return alpha * kappa * np.log(1.0 / beta)


def unit_accuracy_cost(alpha: np.ndarray, beta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Unit accuracy cost (1 - alpha) / (kappa log(1/beta)) of eq. (24); +inf for a model without thoughts."""
    denom = np.asarray(kappa, dtype=float) * np.log(1.0 / beta)
    with np.errstate(divide="ignore"):
        return np.where(denom > 0, (1.0 - alpha) / np.where(denom > 0, denom, 1.0), np.inf)


# --- cost terms (eqs. 21-26), each [..., N, I] ---------------------------------------------------


def switching_cost(a_prev: np.ndarray, a: np.ndarray, load_cost: float) -> np.ndarray:
    """Eq. (21): lambda for every model loaded in this slot (a^t = 1 and a^{t-1} = 0)."""
    return load_cost * (np.asarray(a) > np.asarray(a_prev)).astype(float)


def transmission_cost(
    requests: np.ndarray,
    x: np.ndarray,
    access_s: np.ndarray,
    backhaul_s: np.ndarray,
    access_price: float,
    backhaul_price: float,
) -> np.ndarray:
    """Eq. (22): R (l_{n,i} + d_i / r^C b), each second priced by its link's edge access cost.

    ``access_s`` = l_{n,i} = d_i / E[r_{u,n}] (user to BS), ``backhaul_s`` = d_i / r^C (to the cloud, ground
    core or satellite backbone), paid only by the cloud share b = 1 - x.
    """
    return requests * (access_price * access_s + backhaul_price * backhaul_s * (1.0 - x))


def computation_cost(
    requests: np.ndarray | float,
    x: np.ndarray | float,
    cot_tokens: np.ndarray,
    flops_per_token: np.ndarray,
    compute_flops: float,
    price: float,
) -> np.ndarray:
    """Eq. (23): delta e_m / f_n seconds of edge GPU time (delta = a (1 - b) R k), times a price per second."""
    return price * edge_tokens(requests, x, cot_tokens) * flops_per_token / compute_flops


def accuracy_cost(
    requests: np.ndarray, x: np.ndarray, alpha: np.ndarray, beta: np.ndarray, kappa: np.ndarray, weight: float
) -> np.ndarray:
    """Eq. (24): A-bar R a (1 - b), with the unit cost at the AoT after this slot's update (0 if nothing served)."""
    served = requests * x
    unit = unit_accuracy_cost(alpha, beta, kappa)
    with np.errstate(invalid="ignore"):  # inf * 0 where nothing is served; masked out by the where
        return weight * np.where(served > 0, unit * served, 0.0)


def cloud_cost(requests: np.ndarray, x: np.ndarray, price: float) -> np.ndarray:
    """Eq. (26): l_0 b R, the pay-as-you-go price of requests executed in the cloud."""
    return price * (1.0 - x) * requests


def edge_tokens(requests: np.ndarray | float, x: np.ndarray | float, cot_tokens: np.ndarray) -> np.ndarray:
    """delta = a (1 - b) R k: CoT tokens processed at the edge (x already carries the factor a)."""
    return x * requests * cot_tokens


# --- constraints (3)-(5), (28c) ------------------------------------------------------------------


def memory_used_gb(a: np.ndarray, memory_gb: np.ndarray) -> np.ndarray:
    """Left side of eq. (3): GPU memory of the cached models, [..., N]."""
    return (np.asarray(a, dtype=float) * memory_gb).sum(axis=-1)


def energy_used_j(
    requests: np.ndarray, x: np.ndarray, cot_tokens: np.ndarray, joules_per_token: np.ndarray
) -> np.ndarray:
    """Left side of eq. (5): energy of the edge-served tokens in a slot, [..., N]."""
    return (edge_tokens(requests, x, cot_tokens) * joules_per_token).sum(axis=-1)


# --- radio (eq. 2) and coverage (eq. 1) ------------------------------------------------------------


def user_gains(distance_m: np.ndarray, fading_power: np.ndarray) -> np.ndarray:
    """Channel power gain g_{u,n}: 3GPP macro path loss times Rayleigh |h|^2."""
    return db_to_linear(-macro_path_loss_db(distance_m)) * fading_power


def shadowed_rician_power(rng: np.random.Generator, shadowing: Shadowing, size: tuple[int, ...]) -> np.ndarray:
    """|h|^2 of h = A e^{j phi} + Z (Abdi et al. 2003): A^2 ~ Gamma(m, Omega/m), phi uniform, Z ~ CN(0, 2b).

    Mean power Omega + 2b (1.087 for average shadowing)."""
    b, m, omega = SHADOWED_RICIAN[shadowing]
    los = np.sqrt(rng.gamma(m, omega / m, size=size)) * np.exp(2j * np.pi * rng.uniform(size=size))
    scatter = np.sqrt(b) * (rng.standard_normal(size) + 1j * rng.standard_normal(size))
    return np.abs(los + scatter) ** 2


def satellite_gains(
    elevation_deg: np.ndarray | float,
    fading_power: np.ndarray | float,
    carrier_hz: float,
    antenna_gain_db: float,
    earth_radius_m: float,
    altitude_m: float,
) -> np.ndarray:
    """Channel power gain g_{u,0}: free-space loss over the slant range, antenna gains, shadowed-Rician |h|^2."""
    slant = slant_range_m(np.asarray(elevation_deg, dtype=float), earth_radius_m, altitude_m)
    return free_space_gain(slant, carrier_hz) * db_to_linear(antenna_gain_db) * fading_power


def uplink_rates_bps(
    gains: np.ndarray,
    power_w: float,
    bandwidth_hz: float,
    noise_dbm_per_hz: float,
    interference: Literal["all-users", "none"] = "all-users",
) -> np.ndarray:
    """Eq. (2): rate of each user [..., U] of one BS, every other user of that BS interfering."""
    g = np.asarray(gains, dtype=float)
    noise = float(dbm_to_w(noise_dbm_per_hz)) * bandwidth_hz
    signal = g * power_w
    interf = signal.sum(axis=-1, keepdims=True) - signal if interference == "all-users" else 0.0
    return shannon_rate_bps(bandwidth_hz, signal / (interf + noise))


def coverage_time_s(altitude_m: float, earth_radius_m: float, speed_m_s: float, min_elevation_deg: float) -> float:
    """Eq. (1): T_0^S = L / v^S with arc length L = 2 theta^g (E + l) above the minimum elevation."""
    theta = float(geocentric_angle_rad(np.asarray(min_elevation_deg, dtype=float), earth_radius_m, altitude_m))
    return 2.0 * theta * (earth_radius_m + altitude_m) / speed_m_s
