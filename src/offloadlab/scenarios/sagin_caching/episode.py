"""Seeded episode generator: service-to-model mapping, service attributes, user rates, Poisson requests
and the market's draws. The instance JSON holds only the parameters and the seed; the episode is
regenerated from them, identically on every machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from offloadlab.core.config import check_seed, instance_header, parse_params
from offloadlab.core.errors import InputError
from offloadlab.scenarios.sagin_caching import model
from offloadlab.scenarios.sagin_caching.params import IMAGEBIND_ACCURACY, SaginParams, preset_params

SCENARIO_ID = "sagin-caching"
# Independent random streams, so that changing one setting (e.g. users) leaves the other draws unchanged.
# "satellite" comes last: SeedSequence children are numbered, so the earlier streams keep their draws.
STREAMS = ("services", "radio", "requests", "market", "satellite")


@dataclass(frozen=True, eq=False)
class Episode:
    """One episode: static service table, per-BS mean uplink rates, requests R[t, n, i] and market draws."""

    params: SaginParams
    seed: int
    model_of: np.ndarray  # [I] model m(i) of each service
    data_bits: np.ndarray  # [I] d_i
    alpha: np.ndarray  # [I] zero-shot accuracy alpha_{i,m(i)}
    beta: np.ndarray  # [I] per-thought CoT attenuation beta_{i,m(i)}
    mean_rate_bps: np.ndarray  # [N] E_u[r_{u,n}], eq. (2)
    requests: np.ndarray  # [T, N, I] Poisson counts
    auction_service: np.ndarray  # [T] service offered in each slot's auction
    match_noise: np.ndarray  # [T, N + 1] idiosyncratic match factors (column 0: satellite)
    satellite_rate_bps: np.ndarray  # [N] E_u[r_{u,0}] of each BS area's users on the satellite access link, eq. (2)

    def _type_attr(self, name: str) -> np.ndarray:
        types = self.params.llm_types
        return np.array([getattr(types[m % len(types)], name) for m in self.model_of], dtype=float)

    @cached_property
    def memory_gb(self) -> np.ndarray:
        """s_{m(i)}, [I]."""
        return self._type_attr("memory_gb")

    @cached_property
    def flops_per_token(self) -> np.ndarray:
        """e_{m(i)}, [I]."""
        return self._type_attr("flops_per_token")

    @cached_property
    def context_tokens(self) -> np.ndarray:
        """w_{m(i)}, [I]."""
        return self._type_attr("context_tokens")

    @cached_property
    def cot_tokens(self) -> np.ndarray:
        """k_i, [I]."""
        return np.full(self.params.num_services, float(self.params.cot_tokens))

    @cached_property
    def thought_tokens(self) -> np.ndarray | float:
        """Tokens per AoT unit: k_i when AoT counts CoT examples, 1 for the literal token reading."""
        return self.cot_tokens if self.params.vanishing_unit == "example" else 1.0

    @cached_property
    def joules_per_token(self) -> np.ndarray:
        """Energy per token e_m / efficiency, [I]."""
        return self.flops_per_token / self.params.gpu_flops_per_w

    @cached_property
    def access_s(self) -> np.ndarray:
        """l_{n,i} = d_i / E[r_{u,n}], [N, I]: user-to-BS transmission time per request."""
        return self.data_bits[None, :] / self.mean_rate_bps[:, None]

    @cached_property
    def satellite_access_s(self) -> np.ndarray:
        """d_i / E[r_{u,0}], [N, I]: user-to-satellite transmission time per request of each BS area's users."""
        return self.data_bits[None, :] / self.satellite_rate_bps[:, None]

    @cached_property
    def coverage_s(self) -> float:
        """Satellite coverage time T_0^S, eq. (1)."""
        p = self.params
        return model.coverage_time_s(p.altitude_m, p.earth_radius_m, p.satellite_speed_m_s, p.min_elevation_deg)

    def to_json(self) -> dict[str, Any]:
        """The instance JSON: parameters and seed (the episode is regenerated from them)."""
        return {"scenario": SCENARIO_ID, "params": self.params.model_dump(), "seed": self.seed}


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAMS, children)}


def _mean_rate(params: SaginParams, gains: np.ndarray, bandwidth_hz: float) -> np.ndarray:
    """Eq. (2) averaged over the users of each group [N, U] -> [N]."""
    rates = model.uplink_rates_bps(
        gains, params.user_power_w, bandwidth_hz, params.noise_dbm_per_hz, params.interference
    )
    return rates.mean(axis=-1)


def mean_satellite_rates(params: SaginParams, rng: np.random.Generator) -> np.ndarray:
    """E_u[r_{u,0}] per BS area: the satellite at an elevation uniform over [min elevation, 90 deg] (one per area,
    whose users are within a cell radius), shadowed-Rician fading per user. Eq. (2)'s U_0, the users sharing
    B_0 and interfering, is each area's users (``satellite_bandwidth = "per-area"``) or every user of every
    area (``"shared"``); the draws are the same under both readings."""
    N, U = params.num_bs, max(params.num_users, 1)
    elevation = rng.uniform(params.min_elevation_deg, 90.0, size=(N, 1))
    fading = model.shadowed_rician_power(rng, params.satellite_fading, (N, U))
    gains = model.satellite_gains(
        elevation,
        fading,
        params.satellite_carrier_hz,
        params.satellite_antenna_gain_db,
        params.earth_radius_m,
        params.altitude_m,
    )
    if params.satellite_bandwidth == "per-area":
        return _mean_rate(params, gains, params.satellite_bandwidth_hz)
    # one U_0: every user of every area interferes on the one B_0; then each area's users' mean rate
    rates = model.uplink_rates_bps(
        gains.reshape(N * U),
        params.user_power_w,
        params.satellite_bandwidth_hz,
        params.noise_dbm_per_hz,
        params.interference,
    )
    return rates.reshape(N, U).mean(axis=-1)


def mean_uplink_rates(params: SaginParams, rng: np.random.Generator) -> np.ndarray:
    """E_u[r_{u,n}] per BS: users uniform over an annulus, 3GPP macro path loss, Rayleigh fading, eq. (2)."""
    N, U = params.num_bs, max(params.num_users, 1)  # without users the rate of one user is the mean (no requests)
    r2 = rng.uniform(params.min_distance_m**2, params.cell_radius_m**2, size=(N, U))
    gains = model.user_gains(np.sqrt(r2), rng.exponential(1.0, size=(N, U)))
    return _mean_rate(params, gains, params.bandwidth_hz)


def generate_episode(params: SaginParams, seed: int) -> Episode:
    """Random mapping of services to models, attributes, rates, Poisson(users/10) requests, market draws."""
    p = params
    rng = _streams(seed)
    srv = rng["services"]
    model_of = srv.integers(0, p.num_models, size=p.num_services)
    sigma = srv.uniform(p.sigma_min, p.sigma_max, size=p.num_models)
    beta_model = sigma / (1.0 - sigma)  # CoT gain of Assumption 2
    data_bits = srv.uniform(p.data_mb_min, p.data_mb_max, size=p.num_services) * 8e6
    alpha = np.array([IMAGEBIND_ACCURACY[i % len(IMAGEBIND_ACCURACY)] for i in range(p.num_services)])
    rates = mean_uplink_rates(p, rng["radio"])
    requests = rng["requests"].poisson(p.arrival_rate, size=(p.T, p.num_bs, p.num_services)).astype(float)
    mkt = rng["market"]
    service = mkt.integers(0, p.num_services, size=p.T)
    s = p.match_noise
    noise = mkt.lognormal(-0.5 * s * s, s, size=(p.T, p.num_bs + 1))  # mean 1
    return Episode(
        p,
        seed,
        model_of,
        data_bits,
        alpha,
        beta_model[model_of],
        rates,
        requests,
        service,
        noise,
        mean_satellite_rates(p, rng["satellite"]),
    )


def make_instance(seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """Instance JSON from a preset, overrides and a seed."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("seed", f"value {seed!r} outside the allowed range [0, inf) (an integer)")
    return {"scenario": SCENARIO_ID, "params": preset_params(preset, **overrides).model_dump(), "seed": seed}


def load_instance(data: Mapping[str, Any]) -> Episode:
    """Validate instance JSON and regenerate its episode."""
    instance_header(data, SCENARIO_ID, ("params", "seed"), ())
    return generate_episode(parse_params(SaginParams, data["params"]), check_seed(data["seed"]))


def episode_seeds(seed: int, count: int, purpose: int) -> list[int]:
    """Seeds of ``count`` further episodes derived from ``seed`` (e.g. training episodes of the market)."""
    ss = np.random.SeedSequence([seed, purpose])
    return [int(x) for x in ss.generate_state(count, dtype=np.uint32)]
