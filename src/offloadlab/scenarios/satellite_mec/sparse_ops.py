"""What the satellite-mec Problem does with a sparse (constellation-scale) instance: generation, the
random-choice rule, repair, and the LLM solvers' refusal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.scenarios.satellite_mec.constellation import generate_scale_instance
from offloadlab.scenarios.satellite_mec.scale_params import scale_params
from offloadlab.scenarios.satellite_mec.sparse import SparseInstance


def make_scale_instance(seed: int, preset: str, **overrides: Any) -> dict[str, Any]:
    """A constellation-scale instance as named arrays (``.npz``-ready; lists when written as JSON)."""
    return generate_scale_instance(scale_params(preset, **overrides), seed).to_data()


def nth_visible(inst: SparseInstance, k: np.ndarray) -> np.ndarray:
    """Target (m + 1) of each terminal's ``k``-th visible satellite, 1-based k [..., N]; 0 where k = 0."""
    order, starts = inst.by_terminal
    if inst.pairs == 0:
        return np.zeros(k.shape, dtype=np.int64)
    pair = order.take(np.clip(starts[:-1] + k - 1, 0, inst.pairs - 1))
    return np.where(k > 0, inst.pair_sat.take(pair).astype(np.int64) + 1, 0)


def random_decisions(inst: SparseInstance, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
    """Each terminal local or on one of the satellites that see it, with equal probability; powers a flat
    Dirichlet over {P >= 0, sum_i P <= P_IoT} (the dense rule with visibility)."""
    p = inst.params
    k = np.floor(rng.random((batch, p.N)) * (inst.visible_count + 1)).astype(np.int64)
    share = rng.dirichlet(np.ones(p.I + 1), size=(batch, p.N))[..., : p.I]
    share *= p.p_max_w * (k > 0)[..., None]
    return {"target": nth_visible(inst, k).astype(float), "power_w": share}


def repair(inst: SparseInstance, decisions: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Round targets, make a target that does not see its terminal local, clip negative power, scale each
    terminal's power to the budget and zero the power of local terminals."""
    p = inst.params
    t = np.rint(np.clip(np.asarray(decisions["target"], dtype=float), 0, p.M)).astype(np.int64)
    rows = t.reshape(-1, p.N)
    seen = np.array([inst.pair_of(row)[1] for row in rows]).reshape(t.shape)
    pw = np.clip(np.asarray(decisions["power_w"], dtype=float), 0.0, None)
    total = pw.sum(axis=-1, keepdims=True)
    pw *= np.where(total > p.p_max_w, p.p_max_w / np.where(total > 0, total, 1.0), 1.0) * seen[..., None]
    return {"target": np.where(seen, t, 0).astype(float), "power_w": pw}


def refuse_prompt(inst: SparseInstance) -> NoReturn:
    """The LLM solvers' prompts describe the dense contract: a sparse instance is refused in one line."""
    raise InputError(
        "solver",
        f"LLM solvers take dense satellite-mec instances only (this one is constellation-scale: "
        f"{inst.params.M} satellites, {inst.params.N} terminals, {inst.pairs} visible pairs); "
        "use local, random, ga or reference",
    )


def dense_only(instance: Any, solver: str) -> None:
    """Refuse a constellation-scale (sparse) instance in one line, for solvers of the dense model only."""
    if isinstance(instance, SparseInstance):
        raise InputError(
            "solver", f"{solver} takes dense satellite-mec instances only; use local, random, ga or reference"
        )
