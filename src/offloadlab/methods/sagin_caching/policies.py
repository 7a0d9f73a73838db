"""Methods of seed 001: caching policies (Least-AoT, FIFO, LFU, cloud-only) and the auctions (SPA,
myopic MSB, optimal MSB, DQMSB). Each runs through the episode and returns the decision that
`offloadlab evaluate` replays, with every cost term and the market's surplus in the details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.config import parse_model
from offloadlab.core.errors import InputError
from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.methods.sagin_caching import dqmsb
from offloadlab.methods.sagin_caching.dqmsb import DQMSB, MAX_STEPS, DqmsbParams, Timesteps
from offloadlab.rl.common import Gamma, LearningRate
from offloadlab.scenarios.sagin_caching import auction
from offloadlab.scenarios.sagin_caching.caching import Policy, simulate
from offloadlab.scenarios.sagin_caching.episode import SCENARIO_ID, Episode
from offloadlab.scenarios.sagin_caching.market import MarketStats, market_stats, training_values, valuations
from offloadlab.scenarios.sagin_caching.model import Relay
from offloadlab.scenarios.sagin_caching.problem import decision_of, market_report
from offloadlab.solvers.common import finish

# Typed, bounded options: core.options turns each solver's signature into a strict model, so a wrong type, a
# value out of these bounds or a non-finite number is a one-line InputError naming the option.
CachePolicy = Annotated[Policy, Field(description="caching policy whose episode the market runs on")]
RelayPath = Annotated[Relay, Field(description="path of cloud-bound requests: ground core or satellite")]
Checkpoint = Annotated[str | None, Field(min_length=1, description="load PATH(.zip) if it exists, else save there")]


def episode_result(
    problem: Any,
    ep: Episode,
    policy: Policy,
    relay: Relay,
    rho: np.ndarray | float,
    tracker: Tracker,
    extra: dict[str, Any] | None = None,
    **stats: Any,
) -> Result:
    """Evaluate the decision through the problem, package it with a summary of what was decided."""
    decision = decision_of(ep, policy, relay, rho)
    r = decision["rho"]
    summary = {
        "policy": policy,
        "relay": relay,
        "rho_mean": float(r.mean()),
        "rho_min": float(r.min()),
        "rho_max": float(r.max()),
    }
    return finish(problem, ep, decision, tracker, {"decisions": summary, **(extra or {})}, record=True, **stats)


def _register_caching(policy: Policy, description: str) -> None:
    @register_solver(policy, SCENARIO_ID, description, budget_unit="none")
    def solve(
        problem: Any, instance: Episode, budget: int | None, rng: np.random.Generator, relay: RelayPath = "ground"
    ) -> Result:
        return episode_result(problem, instance, policy, relay, 1.0, Tracker(budget))

    solve.__doc__ = description


_register_caching("laot", "Least-AoT caching (Algorithm 1): evict the cached model with the lowest age of thought")
_register_caching("fifo", "FIFO caching: evict the model loaded earliest")
_register_caching("lfu", "LFU caching: evict the model with the fewest requests so far")
_register_caching("cloud", "cloud-only: no edge caching, every request to the cloud (--relay ground | satellite)")


def _market(instance: Episode, policy: Policy, relay: Relay) -> tuple[np.ndarray, MarketStats]:
    """Valuations of the instance's test episode and the statistics learned on its training episodes."""
    values = valuations(instance, simulate(instance, policy, relay), relay)
    return values, market_stats(instance, policy, relay)


def _auction_result(
    problem: Any,
    instance: Episode,
    policy: Policy,
    relay: Relay,
    values: np.ndarray,
    outcome: auction.Outcome,
    tracker: Tracker,
    extra: dict[str, Any] | None = None,
    **stats: Any,
) -> Result:
    """Result of an auction: the per-round rho as the decision, the mechanism's own report and revenue."""
    report = market_report(values, outcome)
    report["revenue"] = float(outcome.p.sum(axis=1).mean())
    return episode_result(
        problem, instance, policy, relay, outcome.rho, tracker, extra={"mechanism": report, **(extra or {})}, **stats
    )


def msb_properties(values: np.ndarray, x0: float, rho: auction.RhoRule | float) -> dict[str, int]:
    """Theorem 2 measured on the test episode: profitable bid deviations and allocations changed by scaling."""
    return {
        "profitable_deviations": auction.profitable_deviations(values, x0, rho),
        "scale_changed_rounds": auction.scale_changed_rounds(values[:, 1:], x0, rho),
    }


@register_solver(
    "spa",
    SCENARIO_ID,
    "second-price auction over BSs and the satellite (bidding its expected value)",
    budget_unit="none",
)
def solve_spa(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    policy: CachePolicy = "laot",
    relay: RelayPath = "ground",
) -> Result:
    """SPA; its allocation equals MSB with rho = max(1, E[v0] / x(2)) per round, which is the decision stored."""
    values, st = _market(instance, policy, relay)
    out = auction.spa(values[:, 1:], st.spa_bid)
    equivalent = auction.msb(values[:, 1:], st.spa_bid, auction.myopic_rho).rho
    return _auction_result(
        problem, instance, policy, relay, values, auction.Outcome(out.z, out.p, equivalent), Tracker(budget)
    )


def _register_msb(name: str, description: str, rho_of: Callable[[MarketStats], Any]) -> None:
    @register_solver(name, SCENARIO_ID, description, budget_unit="none")
    def solve(
        problem: Any,
        instance: Episode,
        budget: int | None,
        rng: np.random.Generator,
        policy: CachePolicy = "laot",
        relay: RelayPath = "ground",
    ) -> Result:
        values, st = _market(instance, policy, relay)
        rho = rho_of(st)
        out = auction.msb(values[:, 1:], st.x0, rho)
        return _auction_result(
            problem,
            instance,
            policy,
            relay,
            values,
            out,
            Tracker(budget),
            extra={"properties": msb_properties(values, st.x0, rho)},
        )

    solve.__doc__ = description


_register_msb(
    "msb-myopic",
    "MSB with rho = max(1, x0 / x(2)) from the current round (Section VI-D)",
    lambda st: auction.myopic_rho,
)
_register_msb(
    "msb-optimal",
    "MSB with rho = max(1, E[x0] / E[x(2)]) learned on past episodes (Section V-A)",
    lambda st: st.rho_optimal,
)


@register_solver(
    "dqmsb",
    SCENARIO_ID,
    "DQN-tuned MSB (Algorithm 2, Stable-Baselines3 DQN; --checkpoint PATH)",
    budget_unit="env_steps",
    smoke=Smoke(budget=200, options={"progress": False}),
)
def solve_dqmsb(
    problem: Any,
    instance: Episode,
    budget: int | None,
    rng: np.random.Generator,
    policy: CachePolicy = "laot",
    relay: RelayPath = "ground",
    timesteps: Timesteps = DQMSB.timesteps,
    checkpoint: Checkpoint = None,
    progress: Annotated[bool, Field(description="show a training progress bar")] = True,
    gamma: Gamma = DQMSB.gamma,
    learning_rate: LearningRate = DQMSB.learning_rate,
) -> Result:
    """Train on the instance's training episodes (or load --checkpoint), then auction its test episode.

    ``budget``, when given, replaces ``timesteps``. The greedy Q-network prices each bidder from its
    competitors' bids, which keeps the mechanism strategy-proof.
    """
    steps = int(budget or timesteps)
    if not 1 <= steps <= MAX_STEPS:
        raise InputError("budget", f"value {steps} outside the allowed range [1, {MAX_STEPS}] (DQN training steps)")
    hp = parse_model(DqmsbParams, {"timesteps": steps, "gamma": gamma, "learning_rate": learning_rate}, "option")
    values, st = _market(instance, policy, relay)
    levels = instance.params.action_levels
    train = training_values(instance.params, instance.seed, policy, relay)
    seed = int(rng.integers(2**31 - 1))
    model, stats = dqmsb.train(train, st, levels, hp, seed, progress=progress, checkpoint=checkpoint)
    rule = dqmsb.rho_rule(model, st, levels)
    out = auction.msb(values[:, 1:], st.x0, rule)
    extra = {
        "training_reference": training_reference(train, st, rule),
        "properties": msb_properties(values, st.x0, rule),
    }
    return _auction_result(problem, instance, policy, relay, values, out, Tracker(budget), extra=extra, **stats)


def training_reference(train: np.ndarray, st: MarketStats, rule: auction.RhoRule) -> dict[str, float]:
    """Mean total surplus per training episode of every mechanism and of the efficient allocation (Fig. 5 lines)."""
    E, T, _ = train.shape
    v = train.reshape(E * T, -1)
    bs = v[:, 1:]
    outcomes = {
        "dqmsb": auction.msb(bs, st.x0, rule),
        "msb-optimal": auction.msb(bs, st.x0, st.rho_optimal),
        "msb-myopic": auction.msb(bs, st.x0, auction.myopic_rho),
        "spa": auction.spa(bs, st.spa_bid),
    }
    out = {k: float(auction.surplus(v, o)["total"].sum() / E) for k, o in outcomes.items()}
    out["optimal"] = float(v.max(axis=1).sum() / E)
    return out
