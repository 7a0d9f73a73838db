"""The LLM agent market of Section IV-D: valuations v_n = c m_n derived from the caching episode, the
satellite's contract price, and the statistics that optimal MSB and SPA use.

Each slot auctions one service opportunity i_t. The common value c_t is the resource consumption of
serving it, L - l_acc of service i_t averaged over the BSs (observed by the BSs, not by the satellite);
the match quality is the zero-shot accuracy plus the eq. (20) CoT gain of the operator's model:
m_n = alpha (1 + kappa_n log(1/beta)) for BS n at its AoT kappa_n, and m_0 = alpha (1 + kappa_cloud
log(1/beta)) for the cloud model the satellite relays to, each times a lognormal idiosyncratic factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.caching import Policy, Trajectory, cost_breakdown, simulate
from offloadlab.scenarios.sagin_caching.episode import Episode, episode_seeds, generate_episode
from offloadlab.scenarios.sagin_caching.model import Relay
from offloadlab.scenarios.sagin_caching.params import SaginParams

TRAIN_PURPOSE = 1  # seed stream of the market's training episodes


@dataclass(frozen=True)
class MarketStats:
    """What the auctioneer and the satellite learn from past episodes."""

    x0: float  # satellite contract price (Mechanism 1)
    spa_bid: float  # satellite bid in SPA: its expected value E[v0] (it does not observe c)
    rho_optimal: float  # optimal MSB: max(1, E[x0] / E[x(2)])
    scale: float  # mean valuation, used to normalise observations and rewards


def valuations(ep: Episode, traj: Trajectory, relay: Relay = "ground") -> np.ndarray:
    """Values [T, N + 1] of every operator for each slot's opportunity (column 0: satellite)."""
    terms = cost_breakdown(ep, traj, relay)
    resource = np.sum([v for k, v in terms.items() if k != "accuracy"], axis=0)  # [T, N, I]
    t = np.arange(ep.params.T)
    i = ep.auction_service
    common = resource[t, :, i].mean(axis=1)  # c_t
    gain = np.log(1.0 / ep.beta[i])
    m_bs = ep.alpha[i][:, None] * (1.0 + traj.kappa_before[t, :, i] * gain[:, None])
    m_sat = ep.alpha[i] * (1.0 + ep.params.cloud_examples * gain)
    match = np.concatenate([m_sat[:, None], m_bs], axis=1) * ep.match_noise
    return common[:, None] * match


def second_bid(bs_values: np.ndarray) -> np.ndarray:
    """x(2), the second-highest BS bid of each round (0 with a single BS)."""
    if bs_values.shape[1] < 2:
        return np.zeros(len(bs_values))
    return -np.sort(-bs_values, axis=1)[:, 1]


def episode_values(params: SaginParams, seed: int, policy: Policy = "laot", relay: Relay = "ground") -> np.ndarray:
    """Valuations of a freshly generated episode under a caching policy."""
    ep = generate_episode(params, seed)
    return valuations(ep, simulate(ep, policy, relay), relay)


def training_values(params: SaginParams, seed: int, policy: Policy = "laot", relay: Relay = "ground") -> np.ndarray:
    """Valuations [E, T, N + 1] of the training episodes derived from an instance's seed."""
    seeds = episode_seeds(seed, params.market_train_episodes, TRAIN_PURPOSE)
    return np.stack([episode_values(params, s, policy, relay) for s in seeds])


@lru_cache(maxsize=64)
def _stats_cached(params_json: str, seed: int, policy: Policy, relay: Relay) -> MarketStats:
    params = SaginParams.model_validate_json(params_json)
    return stats_from_values(training_values(params, seed, policy, relay).reshape(-1, params.num_bs + 1))


def market_stats(ep: Episode, policy: Policy = "laot", relay: Relay = "ground") -> MarketStats:
    """Market statistics learned on the instance's training episodes (never on its own test episode)."""
    return _stats_cached(ep.params.model_dump_json(), ep.seed, policy, relay)


def stats_from_values(values: np.ndarray) -> MarketStats:
    """Contract price, SPA bid, optimal-MSB rho and scale from past valuations [K, N + 1]."""
    v0, bs = values[:, 0], values[:, 1:]
    x0 = auction.contract_price(v0, bs.max(axis=1))
    x2 = float(second_bid(bs).mean())
    rho = max(1.0, x0 / x2) if x2 > 0 else auction.RHO_MAX
    scale = float(values.mean()) or 1.0
    return MarketStats(x0=x0, spa_bid=float(v0.mean()), rho_optimal=min(rho, auction.RHO_MAX), scale=scale)
