"""The satellite-mec genome: per terminal, one option gene (local, or a satellite and a sub-channel)
and one power gene.

Genes, for N terminals, M satellites and I sub-channels (D = 2N):

- ``option[n]`` in {0, ..., M*I}, integer: 0 = compute locally; ``1 + m*I + i`` = offload to
  satellite m and transmit on sub-channel i;
- ``power[n]`` in [0, P_IoT] watts: the transmit power on that sub-channel (dormant while local).

Why not the flat [M, N] + [N, I] vector: there, moving a terminal to another satellite or
sub-channel takes two coordinated gene changes (switch one entry off and another on) whose
midpoint is worse than both ends (two satellites claimed, or the power split over two channels
that interfere with other terminals), so a GA stalls; here it is one gene. The price is that the
GA never splits a terminal's power over sub-channels, which the decision space allows; the
reference search does try splits, and its optima on calibrated instances almost always put a
terminal's whole power on one sub-channel. Measured on fresh calibrated (3, 10, 4) instances
(GA 120,000 evaluations, no restarts): gap to reference at most 3.7 % on 20 instances with this
genome, up to 7.6 % on 10 of them with the flat one (docs/satellite-mec-solvers.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from offloadlab.scenarios.satellite_mec.model import SatMecInstance


class OptionGenome:
    """Gene vectors [B, 2N]: N option genes then N power genes (watts)."""

    def __init__(self, instance: SatMecInstance):
        p = instance.params
        self.M, self.N, self.I, self.p_max_w = p.M, p.N, p.I, p.p_max_w
        self.lo = np.zeros(2 * p.N)
        self.hi = np.concatenate([np.full(p.N, p.M * p.I, dtype=float), np.full(p.N, p.p_max_w)])
        self.integer = np.arange(2 * p.N) < p.N
        # one row per option value: its satellite one-hot [M*I + 1, M] and sub-channel one-hot
        # [M*I + 1, I], all zero for option 0 (local); decoding is then two table look-ups
        self.satellite_of = np.zeros((p.M * p.I + 1, p.M))
        self.satellite_of[1:] = np.repeat(np.eye(p.M), p.I, axis=0)
        self.channel_of = np.zeros((p.M * p.I + 1, p.I))
        self.channel_of[1:] = np.tile(np.eye(p.I), (p.M, 1))

    def decode(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Offload [B, M, N] one-hot and power [B, N, I] on the chosen sub-channel (zero if local)."""
        X = np.asarray(X, dtype=float)
        N = self.N
        option = np.clip(np.rint(X[..., :N]), 0, self.M * self.I).astype(np.intp)
        # np.take rather than fancy indexing: the same rows, several times faster
        offload = np.swapaxes(np.take(self.satellite_of, option, axis=0), -1, -2)
        power = np.take(self.channel_of, option, axis=0)
        power *= np.clip(X[..., N:], 0.0, self.p_max_w)[..., None]
        return {"offload": offload, "power_w": power}

    def encode(self, decisions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Genes of batched decisions: the terminal's satellite, its strongest sub-channel and its
        total power (capped at P_IoT); exact for decisions that use one sub-channel per terminal."""
        a = np.asarray(decisions["offload"], dtype=float)
        pw = np.asarray(decisions["power_w"], dtype=float)
        on = a.max(axis=-2) >= 0.5
        option = np.where(on, 1 + a.argmax(axis=-2) * self.I + pw.argmax(axis=-1), 0)
        power = np.minimum(pw.sum(axis=-1), self.p_max_w)
        return np.concatenate([option, power], axis=-1).astype(float)
