"""Pure, vectorized model of seed 004: channel (eqs. 2-4), queues (eq. 5), latency with the twin's
frequency bias (eqs. 7-10), QoS (eqs. 11-13), energy (eqs. 14-16) and the per-slot P2 objective (eq. 24).

Shapes: B decisions, N vehicles, K task types (= server queues), T slots.
A decision of one slot is ``omega`` [B, N, K] (offloaded share of each task) and ``alpha`` [B, N, K]
(share of f_E the twin allocates to each task). Readings where the paper is ambiguous:

* eq. (9) uploads the offloaded part, omega |D| (the text writes |D|, which would charge a fully
  local task an upload);
* the twin bias is relative: the real frequency is alpha f_E + Delta f^est with
  Delta f^est = delta_f alpha f_E, so eqs. (8)-(9) give omega |D| c / (alpha f_E (1 + delta_f));
* queues count bytes; the service phi_k of one slot is tau (1 + delta_f) f_E sum_n alpha_nk / c_k
  (the paper's phi_k per second, at the real frequency, times the slot length).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from offloadlab.core.config import check_seed, instance_header, parse_params
from offloadlab.physics.cellular import (
    correlated_shadowing_db,
    gauss_markov_fading,
    jakes_correlation,
    macro_path_loss_db,
)
from offloadlab.physics.radio import shannon_rate_bps
from offloadlab.physics.units import db_to_linear, dbm_to_w
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams, preset_params

SCENARIO_ID = "dt-vehicular"
DEADLINE_TOL = 1e-9  # relative slack on T^max for float round-off
CAPACITY_TOL = 1e-9
ALPHA_FLOOR = 1e-3  # projected policies give an offloaded task at least ALPHA_FLOOR / (N K) of f_E


@dataclass(frozen=True, eq=False)
class Episode:
    """The exogenous trace of one episode (independent of decisions): mobility, channel, tasks."""

    params: DtVehicularParams
    seed: int
    speed_mps: np.ndarray  # [N]
    position_m: np.ndarray  # [T, N], along the road, BS at 0
    distance_m: np.ndarray  # [T, N], vehicle to BS antenna
    gain: np.ndarray  # [T, N], g = |s|^2 h, linear (eq. 3)
    rate_bps: np.ndarray  # [T, N], eq. (2)
    task_bytes: np.ndarray  # [T, N, K], |D_nk^t|

    def to_json(self) -> dict[str, Any]:
        """The instance JSON: the configuration and the seed that regenerate this episode."""
        return {"scenario": SCENARIO_ID, "params": self.params.model_dump(), "seed": self.seed}


def generate_episode(params: DtVehicularParams, seed: int) -> Episode:
    """Seeded trace: uniform start positions and speeds, wrap-around road, correlated channel, U[min, max] tasks."""
    p = params
    rng = np.random.default_rng(seed)
    T, N = p.slots, p.N
    speed = rng.uniform(p.speed_min_mps, p.speed_max_mps, size=N)
    x0 = rng.uniform(-p.road_length_m / 2, p.road_length_m / 2, size=N)
    travelled = speed[None, :] * p.slot_s * np.arange(T)[:, None]
    position = np.mod(x0[None, :] + travelled + p.road_length_m / 2, p.road_length_m) - p.road_length_m / 2
    distance = np.sqrt(position**2 + p.bs_offset_m**2 + p.bs_height_m**2)
    shadow_db = correlated_shadowing_db(rng, speed * p.slot_s, T, p.shadowing_std_db, p.decorrelation_m)
    small = gauss_markov_fading(rng, jakes_correlation(speed, p.carrier_hz, p.slot_s), T)  # eq. (4)
    gain = np.abs(small) ** 2 * db_to_linear(-(macro_path_loss_db(distance) + shadow_db))  # eq. (3)
    rate = shannon_rate_bps(p.bandwidth_hz, p.tx_power_w * gain / dbm_to_w(p.noise_dbm))  # eq. (2)
    tasks = rng.uniform(p.task_bytes_min, p.task_bytes_max, size=(T, N, p.K))
    return Episode(p, seed, speed, position, distance, gain, rate, tasks)


def make_params(preset: str = "default", **overrides: Any) -> DtVehicularParams:
    """Validated parameters of a preset with overrides."""
    return preset_params(preset, **overrides)


def load_episode(data: Mapping[str, Any]) -> Episode:
    """Validate an instance JSON object ({scenario, params, seed}) and regenerate its episode."""
    instance_header(data, SCENARIO_ID, ("params", "seed"), ())
    return generate_episode(parse_params(DtVehicularParams, data["params"]), check_seed(data["seed"]))


@dataclass
class SlotCosts:
    """Every term of one slot for B decisions (arrays with a leading B)."""

    t_local: np.ndarray  # [B, N, K] eq. (7)
    t_upload: np.ndarray  # [B, N, K] first term of eq. (9)
    t_edge_nominal: np.ndarray  # [B, N, K] second term of eq. (9), at the twin's frequency alpha f_E
    dt_est: np.ndarray  # [B, N, K] eq. (8)
    latency: np.ndarray  # [B, N, K] eq. (10)
    qos: np.ndarray  # [B] U^sys, eqs. (11)-(13)
    local_energy: np.ndarray  # [B] eq. (14)
    edge_energy: np.ndarray  # [B] eq. (15)
    arrivals: np.ndarray  # [B, K] Z_k, bytes
    service: np.ndarray  # [B, K] phi_k, bytes per slot
    drift: np.ndarray  # [B] sum_k q_k (Z_k - phi_k), eq. (24a) without beta
    p2: np.ndarray  # [B] eq. (24)
    capacity: np.ndarray  # [B] sum(alpha) * capacity factor, must be <= 1

    @property
    def energy(self) -> np.ndarray:
        """E^sys, eq. (16)."""
        return self.local_energy + self.edge_energy


def slot_costs(
    p: DtVehicularParams,
    rate_bps: np.ndarray,
    task_bytes: np.ndarray,
    queue: np.ndarray,
    omega: np.ndarray,
    alpha: np.ndarray,
) -> SlotCosts:
    """Evaluate B decisions of one slot given rates [N], task sizes [N, K] and backlogs [K] or [B, K]."""
    w = np.asarray(omega, dtype=float)
    a = np.asarray(alpha, dtype=float)
    D = np.asarray(task_bytes, dtype=float)[None]
    r = np.asarray(rate_bps, dtype=float)[None, :, None]
    q = np.broadcast_to(np.asarray(queue, dtype=float), (w.shape[0], p.K))
    cycles = w * D * p.cycles_per_byte  # offloaded cycles
    t_local = (1.0 - w) * D * p.cycles_per_byte / p.f_vehicle_hz  # eq. (7)
    f_nom = a * p.f_edge_hz
    df_est = p.delta_f * f_nom
    with np.errstate(divide="ignore", invalid="ignore"):
        t_up = w * D * 8.0 / r
        t_nom = np.where(w > 0, cycles / f_nom, 0.0)
        dt_est = np.where(w > 0, -cycles * df_est / (f_nom * (df_est + f_nom)), 0.0)  # eq. (8)
    t_nom = np.nan_to_num(t_nom, nan=np.inf)
    dt_est = np.nan_to_num(dt_est, nan=0.0)
    t_edge = t_up + t_nom + dt_est  # eq. (9)
    latency = t_local + t_edge  # eq. (10)
    with np.errstate(over="ignore", invalid="ignore"):
        qos = (1.0 - latency / p.deadline_s).mean(axis=(1, 2))  # eqs. (11)-(13)
    local_energy = (p.f_vehicle_hz**3 * p.kappa_vehicle * t_local).sum(axis=(1, 2))  # eq. (14)
    share = a.sum(axis=(1, 2))
    edge_energy = p.n_edge_cores * p.kappa_edge * (p.f_edge_hz * share / p.n_edge_cores) ** 3  # eq. (15)
    arrivals = (w * D).sum(axis=1)
    service = p.slot_s * p.real_factor * p.f_edge_hz * a.sum(axis=1) / p.cycles_per_byte
    drift = (q * (arrivals - service)).sum(axis=1)
    p2 = p.beta * drift + p.qos_weight * (-qos) + p.energy_weight * (local_energy + edge_energy)  # eq. (24)
    return SlotCosts(
        t_local,
        t_up,
        t_nom,
        dt_est,
        latency,
        qos,
        local_energy,
        edge_energy,
        arrivals,
        service,
        drift,
        p2,
        share * p.capacity_factor,
    )


def next_queue(queue: np.ndarray, costs: SlotCosts) -> np.ndarray:
    """q_k(t+1) = [q_k(t) + Z_k(t) - phi_k(t)]^+, eq. (5)."""
    return np.maximum(np.asarray(queue, dtype=float) + costs.arrivals - costs.service, 0.0)


def violations(p: DtVehicularParams, omega: np.ndarray, alpha: np.ndarray) -> dict[str, np.ndarray]:
    """Structural constraints per decision [B]: bounds (24d), capacity (24c) and CPU for offloaded work."""
    w = np.asarray(omega, dtype=float)
    a = np.asarray(alpha, dtype=float)
    return {
        "omega_outside_0_1": np.any((w < 0) | (w > 1), axis=(1, 2)),
        "alpha_outside_0_1": np.any((a < 0) | (a > 1), axis=(1, 2)),
        "edge_capacity": a.sum(axis=(1, 2)) * p.capacity_factor > 1.0 + CAPACITY_TOL,
        "offloaded_without_cpu": np.any((w > 0) & (a <= 0), axis=(1, 2)),
    }


def project(p: DtVehicularParams, omega: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make raw policy outputs feasible: clip to [0, 1], give offloaded work a CPU floor, and scale
    the allocation down to the server's capacity (what the server does with an over-booked request)."""
    w = np.clip(np.asarray(omega, dtype=float), 0.0, 1.0)
    a = np.clip(np.asarray(alpha, dtype=float), 0.0, 1.0)
    a = np.where(w > 0, np.maximum(a, ALPHA_FLOOR / (p.N * p.K)), a)
    load = a.sum(axis=(-2, -1), keepdims=True) * p.capacity_factor
    return w, a / np.maximum(load, 1.0)


def vehicle_features(episode: Episode, t: int) -> np.ndarray:
    """Normalised per-vehicle state s_n(t) of eq. (25): task sizes [K], position, speed, channel gain: [N, K+3]."""
    p = episode.params
    snr_db = 10 * np.log10(p.tx_power_w * episode.gain[t] / dbm_to_w(p.noise_dbm))
    return np.concatenate(
        [
            episode.task_bytes[t] / p.task_bytes_max,
            (episode.position_m[t] / (p.road_length_m / 2))[:, None],
            (episode.speed_mps / max(p.speed_max_mps, 1e-9))[:, None],
            (snr_db / 50.0)[:, None],
        ],
        axis=1,
    )


def queue_features(p: DtVehicularParams, queue: np.ndarray) -> np.ndarray:
    """Backlogs normalised by one slot's largest possible arrivals of a type, N |D|max."""
    return np.asarray(queue, dtype=float) / (p.N * p.task_bytes_max)


SUMMARY_TERMS = (
    "p2",
    "energy_j",
    "local_energy_j",
    "edge_energy_j",
    "latency_s",
    "qos",
    "resource_ratio",
    "real_resource_ratio",
    "offload_ratio",
    "queue_bytes",
    "drift",
    "deadline_miss_rate",
)


class EpisodeLog:
    """Accumulates per-slot terms of B decision streams and summarises them as episode means."""

    def __init__(self) -> None:
        self.rows: dict[str, list[np.ndarray]] = {k: [] for k in SUMMARY_TERMS}

    def add(self, p: DtVehicularParams, queue: np.ndarray, omega: np.ndarray, alpha: np.ndarray, c: SlotCosts) -> None:
        """Record one slot."""
        share = np.asarray(alpha).sum(axis=(1, 2))
        with np.errstate(over="ignore", invalid="ignore"):
            latency = c.latency.mean(axis=(1, 2))
        slot = {
            "p2": c.p2,
            "energy_j": c.energy,
            "local_energy_j": c.local_energy,
            "edge_energy_j": c.edge_energy,
            "latency_s": latency,
            "qos": c.qos,
            "resource_ratio": share,
            "real_resource_ratio": share * p.real_factor,
            "offload_ratio": np.asarray(omega).mean(axis=(1, 2)),
            "queue_bytes": np.broadcast_to(np.asarray(queue, dtype=float), c.arrivals.shape).sum(axis=1),
            "drift": c.drift,
            "deadline_miss_rate": (c.latency > p.deadline_s * (1 + DEADLINE_TOL)).mean(axis=(1, 2)),
        }
        for k, v in slot.items():
            self.rows[k].append(np.asarray(v, dtype=float))

    def series(self) -> dict[str, np.ndarray]:
        """Per-slot terms, [T, B]."""
        return {k: np.stack(v) for k, v in self.rows.items()}

    def summary(self) -> dict[str, np.ndarray]:
        """Episode means of every term, [B] (infinite where a slot was infinitely late)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return {k: v.mean(axis=0) for k, v in self.series().items()}


def terminal_cost(p: DtVehicularParams, queue: np.ndarray) -> np.ndarray:
    """Charge [B] for the work still queued when the episode ends (backlogs [B, K] or [K]):
    ``terminal_queue_weight`` beta L(Q(T)) with L(Q) = sum_k q_k^2 / 2, eq. (18). P2's drift term sums
    q_k(t) (Z_k - phi_k), which is 0 in the slot a queue first fills, so an episode could otherwise end
    with its queues full for free; the paper, whose horizon is unbounded, is silent on it."""
    q = np.atleast_2d(np.asarray(queue, dtype=float))
    return p.terminal_queue_weight * p.beta * 0.5 * (q**2).sum(axis=1)


def episode_summary(p: DtVehicularParams, log: EpisodeLog, queue: np.ndarray) -> dict[str, np.ndarray]:
    """Episode means of every term [B] and the objective: ``p2`` = (sum_t P2(t) + terminal cost) / T, the
    terminal cost spread over the slots; ``p2_slots`` is the mean P2(t) alone; ``queue`` the final backlogs."""
    summary = log.summary()
    terminal = terminal_cost(p, queue)
    with np.errstate(invalid="ignore"):
        p2 = summary["p2"] + terminal / p.slots
    final = np.atleast_2d(np.asarray(queue, dtype=float)).sum(axis=1)
    return {**summary, "p2": p2, "p2_slots": summary["p2"], "terminal_cost": terminal, "final_queue_bytes": final}


@dataclass(frozen=True)
class SlotState:
    """What a policy sees at the start of slot t: the twin's view of every vehicle and the backlogs."""

    t: int
    rate_bps: np.ndarray  # [N]
    task_bytes: np.ndarray  # [N, K]
    queue: np.ndarray  # [K]
    features: np.ndarray  # [N, K + 3], normalised s_n(t)
    queue_features: np.ndarray  # [K], normalised backlogs


class Simulator:
    """Steps one episode slot by slot for one decision stream; the single engine of envs and solvers."""

    def __init__(self, episode: Episode):
        self.episode = episode
        self.params = episode.params
        self.reset()

    def reset(self) -> None:
        """Back to slot 0 with empty queues."""
        self.t = 0
        self.queue = np.zeros(self.params.K)
        self.log = EpisodeLog()
        self.omegas: list[np.ndarray] = []
        self.alphas: list[np.ndarray] = []

    @property
    def done(self) -> bool:
        """Whether every slot has been played."""
        return self.t >= self.params.slots

    def summary(self) -> dict[str, np.ndarray]:
        """Episode means and the objective with the terminal queue cost (``episode_summary``), [1] each."""
        return episode_summary(self.params, self.log, self.queue)

    def state(self) -> SlotState:
        """The state at the current slot."""
        ep, t = self.episode, min(self.t, self.params.slots - 1)
        return SlotState(
            t,
            ep.rate_bps[t],
            ep.task_bytes[t],
            self.queue.copy(),
            vehicle_features(ep, t),
            queue_features(self.params, self.queue),
        )

    def step(self, omega: np.ndarray, alpha: np.ndarray, feasible: bool = True) -> SlotCosts:
        """Apply one decision [N, K] (projected onto the constraints unless ``feasible`` is False)."""
        w, a = np.asarray(omega, dtype=float)[None], np.asarray(alpha, dtype=float)[None]
        if feasible:
            w, a = project(self.params, w, a)
        ep, t = self.episode, self.t
        c = slot_costs(self.params, ep.rate_bps[t], ep.task_bytes[t], self.queue, w, a)
        self.omegas.append(w[0])
        self.alphas.append(a[0])
        self.log.add(self.params, self.queue[None], w, a, c)
        self.queue = next_queue(self.queue, c)[0]
        self.t += 1
        return c


def run_policy(episode: Episode, policy: Callable[[SlotState], tuple[np.ndarray, np.ndarray]]) -> Simulator:
    """Play a whole episode with ``policy(state) -> (omega, alpha)``; returns the finished simulator."""
    sim = Simulator(episode)
    while not sim.done:
        sim.step(*policy(sim.state()))
    return sim


def run_stationary(episode: Episode, omega: np.ndarray, alpha: np.ndarray) -> tuple[EpisodeLog, np.ndarray]:
    """Apply the same decisions [B, N, K] in every slot; returns the log and the final backlogs [B, K]."""
    p = episode.params
    queue = np.zeros((np.asarray(omega).shape[0], p.K))
    log = EpisodeLog()
    for t in range(p.slots):
        c = slot_costs(p, episode.rate_bps[t], episode.task_bytes[t], queue, omega, alpha)
        log.add(p, queue, omega, alpha, c)
        queue = next_queue(queue, c)
    return log, queue
