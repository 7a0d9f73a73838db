"""Closed-loop metrics of an episode played in the simulator (decisions change later states)."""

from __future__ import annotations

from offloadlab.scenarios.mec_queues.comllm import jain
from offloadlab.scenarios.mec_queues.problem import episode_metrics
from offloadlab.scenarios.mec_queues.sim import QueueSim


def closed_loop_metrics(sim: QueueSim, b: int = 0, reference_mean_slots: float | None = None) -> dict[str, float]:
    """Mean delay (slots, seconds), drop rate, offload share, Jain over the servers' processed Mbit, and the
    ratio reference / this mean delay x 100 (%) when a reference (greedy-oracle) mean is given."""
    m = episode_metrics(sim)
    mask = sim.task_mask()[b]
    acts = sim.action[b, : mask.shape[0]][mask]
    mean = float(m["mean_delay_slots"][b])
    out = {
        "tasks": float(mask.sum()),
        "mean_delay_slots": mean,
        "mean_delay_s": mean * sim.p.slot_s,
        "drop_rate": float(m["drop_rate"][b]),
        "offload_share": float((acts > 0).mean()) if acts.size else 0.0,
        "jain_work": jain(sim.work[b]),
    }
    if reference_mean_slots is not None:
        out["ratio_to_reference_pct"] = reference_mean_slots / mean * 100 if mean > 0 else float("nan")
    return out
