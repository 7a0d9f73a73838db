"""The satellite-mec Problem: binds the pure model to the core protocol."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.manifest import Manifest, Objective
from offloadlab.core.problem import Evaluation, ProblemBase
from offloadlab.core.space import DecisionSpace
from offloadlab.scenarios.satellite_mec import model, sparse, sparse_ops
from offloadlab.scenarios.satellite_mec.genome import OptionGenome
from offloadlab.scenarios.satellite_mec.model import SatMecInstance
from offloadlab.scenarios.satellite_mec.params import PRESETS
from offloadlab.scenarios.satellite_mec.scale_params import SCALE_PRESETS
from offloadlab.scenarios.satellite_mec.sparse import SparseInstance
from offloadlab.scenarios.satellite_mec.sparse_genome import SparseGenome


class SatelliteMecProblem(ProblemBase):
    """Seed 000: minimise the mean terminal latency over offloading targets and sub-channel powers.

    Two instance kinds: the dense contract of docs/contracts.md (``model``) and, for the constellation presets
    (``starlink``, ...), the sparse visible-pairs model (``sparse``); every method dispatches on the kind."""

    manifest = Manifest(
        id=model.SCENARIO_ID,
        seed="000",
        paper="LLM-based optimization of offloading, power and computing in multi-satellite MEC (seed 000)",
        objective=Objective("mean_latency_s", "Mean latency", "s", "min"),
        presets=(*PRESETS, *SCALE_PRESETS),
        prompt_dir=Path(__file__).parent / "prompts",
        gym_ids=("offloadlab/satellite-mec-v0",),
        small={"M": 2, "N": 4, "I": 2},
    )
    objective_cap = 1e6  # seconds: stands in for "never finishes" inside penalised scores

    def make_instance(self, seed: int, preset: str = "default", **overrides: Any) -> dict[str, Any]:
        """Generate an instance from a preset, overrides and a seed (JSON-ready, or named arrays for the
        constellation presets)."""
        if preset in SCALE_PRESETS:
            return sparse_ops.make_scale_instance(seed, preset, **overrides)
        params = model.make_params(preset, **overrides)
        return model.generate_instance(params, seed).to_json()

    def load_instance(self, data: Mapping[str, Any]) -> SatMecInstance | SparseInstance:
        """Validate instance data (sparse when it carries visible pairs)."""
        if isinstance(data, Mapping) and "pair_sat" in data:
            return sparse.load_sparse(data)
        return model.load_instance(data)

    def decision_space(self, instance: SatMecInstance | SparseInstance) -> DecisionSpace:
        """Offload matrix and power matrix (sparse: target vector and power matrix)."""
        if isinstance(instance, SparseInstance):
            return sparse.decision_space(instance)
        return model.decision_space(instance)

    def evaluate(self, instance: SatMecInstance | SparseInstance, decisions: Mapping[str, np.ndarray]) -> Evaluation:
        """Batched evaluation with the eq. (14) CPU split."""
        if isinstance(instance, SparseInstance):
            return sparse.evaluate(instance, decisions["target"], decisions["power_w"])
        return model.evaluate(instance, decisions["offload"], decisions["power_w"])

    def random_decisions(
        self, instance: SatMecInstance | SparseInstance, rng: np.random.Generator, batch: int
    ) -> dict[str, np.ndarray]:
        """The paper's random choice (RC): each task local or on one satellite with equal probability;
        powers uniform over the feasible set {P >= 0, sum_i P <= P_IoT} (a flat Dirichlet). Sparse: local
        or one of the terminal's visible satellites, each with equal probability."""
        if isinstance(instance, SparseInstance):
            return sparse_ops.random_decisions(instance, rng, batch)
        p = instance.params
        choice = rng.integers(0, p.M + 1, size=(batch, p.N))  # 0 = local, m + 1 = satellite m
        offload = (choice[:, None, :] == np.arange(1, p.M + 1)[None, :, None]).astype(float)
        share = rng.dirichlet(np.ones(p.I + 1), size=(batch, p.N))[..., : p.I]
        power = share * p.p_max_w * (choice > 0)[..., None]
        return {"offload": offload, "power_w": power}

    def repair(
        self, instance: SatMecInstance | SparseInstance, decisions: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Project onto the structural constraints: round alpha, keep one satellite per terminal
        (the largest entry), clip negative power, scale each terminal's power to the budget,
        and zero the power of terminals that compute locally (sparse: unseen targets become local)."""
        if isinstance(instance, SparseInstance):
            return sparse_ops.repair(instance, decisions)
        p = instance.params
        a = np.asarray(decisions["offload"], dtype=float)
        pw = np.clip(np.asarray(decisions["power_w"], dtype=float), 0.0, None)
        best = a.argmax(axis=-2)
        keep = np.take_along_axis(a, best[..., None, :], axis=-2)[..., 0, :] >= 0.5
        onehot = (np.arange(p.M)[:, None] == best[..., None, :]) & keep[..., None, :]
        total = pw.sum(axis=-1, keepdims=True)
        scale = np.where(total > p.p_max_w, p.p_max_w / np.where(total > 0, total, 1.0), 1.0)
        return {"offload": onehot.astype(float), "power_w": pw * scale * keep[..., None]}

    def genome(self, instance: SatMecInstance | SparseInstance) -> OptionGenome | SparseGenome:
        """The GA's encoding: per terminal one option gene (local, or satellite and sub-channel)
        and one power gene; see ``satellite_mec.genome`` (sparse: ``sparse_genome``)."""
        if isinstance(instance, SparseInstance):
            return SparseGenome(instance)
        return OptionGenome(instance)

    def local_decision(self, instance: SatMecInstance | SparseInstance) -> dict[str, np.ndarray]:
        """Processing all locally (PAL): every variable zero."""
        p = instance.params
        if isinstance(instance, SparseInstance):
            return {"target": np.zeros(p.N), "power_w": np.zeros((p.N, p.I))}
        return {"offload": np.zeros((p.M, p.N)), "power_w": np.zeros((p.N, p.I))}

    def describe(self, instance: SatMecInstance | SparseInstance) -> dict[str, Any]:
        """Template parameters for prompts and reports, with per-link quality: ``link_snr_db[m][n][i]`` is the
        SNR of terminal n on sub-channel i at satellite m at full power without interference, and
        ``upload_s[n][m]`` the upload time of terminal n's task to satellite m alone on its best sub-channel."""
        if isinstance(instance, SparseInstance):
            sparse_ops.refuse_prompt(instance)
        p = instance.params
        snr = p.p_max_w * instance.gain / instance.noise_w  # [M, N, I]
        best_rate = p.bandwidth_hz * np.log2(1.0 + snr.max(axis=2))  # [M, N]
        return {
            **p.model_dump(),
            "data_bits": instance.data_bits.tolist(),
            "elevation_deg": instance.elevation_deg.tolist(),
            "local_latency_s": instance.local_latency_s.tolist(),
            "link_snr_db": (10.0 * np.log10(snr)).tolist(),
            "upload_s": (instance.data_bits[None, :] / best_rate).T.tolist(),
        }


PROBLEM = SatelliteMecProblem()
