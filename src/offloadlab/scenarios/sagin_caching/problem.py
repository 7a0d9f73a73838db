"""The sagin-caching Problem: binds the episode simulator, cost model and market to the core protocol.

Sequential scenario: the instance is the episode configuration (parameters + seed). A decision is a
stationary description of how the episode is run, so `offloadlab evaluate` can replay it:

- ``policy``: caching policy, 0 = Least-AoT, 1 = FIFO, 2 = LFU, 3 = cloud-only (no edge caching);
- ``relay``: path of cloud-bound requests, 0 = terrestrial core, 1 = satellite backbone;
- ``rho``: [T] MSB price-scaling factor of each slot's auction (a constant for stationary MSB).

The objective is the average total cost per slot summed over the BSs (eq. 27); the auction's surplus
under ``rho`` is reported alongside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import ArrayField, DecisionSpace
from offloadlab.scenarios.sagin_caching import auction, episode
from offloadlab.scenarios.sagin_caching.caching import POLICIES, RELAYS, Policy, simulate, summarize, violations
from offloadlab.scenarios.sagin_caching.episode import Episode
from offloadlab.scenarios.sagin_caching.market import market_stats, valuations
from offloadlab.scenarios.sagin_caching.model import Relay
from offloadlab.scenarios.sagin_caching.params import PRESETS


def decision_space(ep: Episode) -> DecisionSpace:
    """Caching policy index, relay index and per-slot rho."""
    return DecisionSpace(
        fields=(
            ArrayField(
                "policy",
                (),
                0,
                len(POLICIES) - 1,
                integer=True,
                description="caching policy: " + ", ".join(f"{k} = {n}" for k, n in enumerate(POLICIES)),
            ),
            ArrayField(
                "relay",
                (),
                0,
                len(RELAYS) - 1,
                integer=True,
                description="cloud path: " + ", ".join(f"{k} = {n}" for k, n in enumerate(RELAYS)),
            ),
            ArrayField(
                "rho",
                (ep.params.T,),
                1.0,
                auction.RHO_MAX,
                description="MSB price-scaling factor of each slot's auction",
            ),
        ),
        constraints=("GPU memory, energy and context-window constraints (3), (5), (28c) are enforced by the policies",),
    )


def decision_of(ep: Episode, policy: Policy, relay: Relay, rho: float | np.ndarray = 1.0) -> dict[str, np.ndarray]:
    """The decision arrays for named choices."""
    return {
        "policy": np.array(float(POLICIES.index(policy))),
        "relay": np.array(float(RELAYS.index(relay))),
        "rho": np.broadcast_to(np.asarray(rho, dtype=float), (ep.params.T,)).copy(),
    }


def market_report(values: np.ndarray, outcome: auction.Outcome) -> dict[str, float]:
    """Mean surplus per round (total, ground, satellite, optimal), efficiency and the satellite's win share."""
    s = {k: float(v.mean()) for k, v in auction.surplus(values, outcome).items()}
    return {
        "total_surplus": s["total"],
        "ground_surplus": s["ground"],
        "satellite_surplus": s["satellite"],
        "optimal_surplus": s["optimal"],
        "allocation_efficiency": s["total"] / s["optimal"] if s["optimal"] > 0 else 1.0,
        "satellite_win_share": float(outcome.z[:, 0].mean()),
        "mean_rho": float(np.mean(outcome.rho)),
    }


def run(ep: Episode, policy: Policy, relay: Relay, rho: np.ndarray) -> tuple[dict[str, Any], list[str]]:
    """Run one decision through the episode: cost summary, auction report under MSB with ``rho``, violations."""
    traj = simulate(ep, policy, relay)
    out = summarize(ep, traj, relay)
    values = valuations(ep, traj, relay)
    stats = market_stats(ep, policy, relay)
    out.update(market_report(values, auction.msb(values[:, 1:], stats.x0, np.asarray(rho, dtype=float))))
    out["satellite_contract_price"] = stats.x0
    return out, violations(ep, traj)


class SaginCachingProblem(ProblemBase):
    """Seed 001: minimise the average provisioning cost (eq. 27); auctions report surplus (eq. 30a)."""

    manifest = Manifest(
        id=episode.SCENARIO_ID,
        seed="001",
        paper="Caching LLM agents in space-air-ground networks: age of thought and MSB auctions (seed 001)",
        objective=Objective("avg_total_cost", "Average total cost per slot", "", "min"),
        presets=tuple(PRESETS),
        sequential=True,
        gym_ids=("offloadlab/sagin-auctioneer-v0",),
        small={"T": 12},
    )

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """Episode configuration JSON from a preset, overrides and a seed."""
        return episode.make_instance(seed, preset, **overrides)

    def load_instance(self, data: Mapping[str, Any]) -> Episode:
        """Validate the configuration and regenerate the episode."""
        return episode.load_instance(data)

    def decision_space(self, instance: Episode) -> DecisionSpace:
        """Policy, relay and per-slot rho."""
        return decision_space(instance)

    def evaluate(self, instance: Episode, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Replay each decision of the batch through the episode."""
        pol = np.asarray(decisions["policy"]).reshape(-1)
        rel = np.asarray(decisions["relay"]).reshape(-1)
        rho = np.asarray(decisions["rho"], dtype=float).reshape(len(pol), -1)
        reports, broken = [], []
        for b in range(len(pol)):
            rep, bad = run(instance, POLICIES[int(pol[b])], RELAYS[int(rel[b])], rho[b])
            rep.update(policy_name=POLICIES[int(pol[b])], relay_name=RELAYS[int(rel[b])])
            reports.append(rep)
            broken.append(bad)
        names = sorted({name for bad in broken for name in bad})
        checks = {name: np.array([name in bad for bad in broken]) for name in names}
        details = {k: np.array([r[k] for r in reports]) for k in reports[0]}
        # through the one guard: a non-finite cost is infeasible, never "feasible with null"
        return Evaluation.from_checks(np.array([r["avg_total_cost"] for r in reports], dtype=float), checks, details)

    def describe(self, instance: Episode) -> dict[str, Any]:
        """Parameters and derived quantities for reports."""
        p = instance.params
        return {
            **p.model_dump(),
            "seed": instance.seed,
            "arrival_rate": p.arrival_rate,
            "gpu_capacity_gb": p.gpu_capacity_gb,
            "model_of": instance.model_of.tolist(),
            "mean_rate_bps": instance.mean_rate_bps.tolist(),
            "coverage_s": instance.coverage_s,
        }


PROBLEM = SaginCachingProblem()
