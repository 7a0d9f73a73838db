"""The GA's genome on a sparse instance: the dense ``OptionGenome`` with each terminal's options limited
to the satellites that see it.

Genes for N terminals (D = 2N): ``option[n]`` in {0, ..., V_n * I}, 0 = local, ``1 + k * I + i`` =
the k-th satellite that sees n (in satellite order) on sub-channel i; ``power[n]`` in [0, P_IoT].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from offloadlab.scenarios.satellite_mec.sparse import SparseInstance
from offloadlab.scenarios.satellite_mec.sparse_ops import nth_visible


class SparseGenome:
    """Gene vectors [B, 2N]: N option genes then N power genes (watts)."""

    def __init__(self, instance: SparseInstance):
        p = instance.params
        self.inst, self.N, self.I, self.p_max_w = instance, p.N, p.I, p.p_max_w
        self.lo = np.zeros(2 * p.N)
        self.hi = np.concatenate([instance.visible_count * p.I, np.full(p.N, p.p_max_w)]).astype(float)
        self.integer = np.arange(2 * p.N) < p.N

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Targets [B, N] and power [B, N, I] on the chosen sub-channel (zero if local)."""
        X = np.asarray(X, dtype=float)
        N, I = self.N, self.I
        option = np.clip(np.rint(X[..., :N]), 0, self.hi[:N]).astype(np.int64)
        k, channel = np.divmod(np.maximum(option - 1, 0), I)
        on = option > 0
        target = nth_visible(self.inst, np.where(on, k + 1, 0))
        power = np.zeros(option.shape + (I,))
        level = np.clip(X[..., N:], 0.0, self.p_max_w) * on
        np.put_along_axis(power, channel[..., None], level[..., None], axis=-1)
        return {"target": target.astype(float), "power_w": power}

    def encode(self, decisions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Genes of batched decisions: the target's rank among the terminal's visible satellites, its
        strongest sub-channel and the total power (capped at P_IoT); exact for one sub-channel each. Unlike
        the dense genome, a local terminal's (dormant) power gene is P_IoT: from the all-local seed of the
        GA, a single mutation of an option gene is then a full-power offload rather than a silent one."""
        inst = self.inst
        order, starts = inst.by_terminal
        rank = np.empty(inst.pairs, dtype=np.int64)
        rank[order] = np.arange(inst.pairs) - starts[inst.pair_terminal[order]]
        t = np.asarray(decisions["target"], dtype=float).reshape(-1, self.N)
        pw = np.asarray(decisions["power_w"], dtype=float).reshape(-1, self.N, self.I)
        rows = []
        for b in range(len(t)):
            idx, seen = inst.pair_of(np.rint(t[b]).astype(np.int64))
            option = np.where(seen, 1 + rank.take(idx, mode="clip") * self.I + pw[b].argmax(axis=-1), 0)
            # a local terminal's power gene is dormant: P_IoT, so that a mutation that offloads it transmits
            power = np.where(seen, np.minimum(pw[b].sum(axis=-1), self.p_max_w), self.p_max_w)
            rows.append(np.concatenate([option, power]))
        return np.array(rows, dtype=float).reshape(np.shape(decisions["target"])[:-1] + (2 * self.N,))
