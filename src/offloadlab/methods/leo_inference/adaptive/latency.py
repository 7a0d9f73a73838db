"""Latency composition from a knowledge base (Sec. VIII-B).

CPU: latency = model transfer + sum of the operators' delays (the paper's recipe). The transfer is the
model's fp32 weights over a memory bandwidth (our reading of "the delay in transferring the model for
implementation").
GPU: not additive. The paper names CPU instruction in-queue time, CPU-to-GPU copy and GPU inference; we
model them as a pipeline: the CPU enqueues one kernel every ``queue_s`` seconds, the GPU starts kernel i
once it is enqueued and kernel i-1 has finished, and the input copy precedes the first kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from offloadlab.core.errors import InputError
from offloadlab.methods.leo_inference.adaptive.knowledge_base import KnowledgeBase
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec

BYTES_PER_PARAM = 4  # fp32


@dataclass(frozen=True)
class CpuProfile:
    """A CPU device: operator delay = ``factor`` x host delay; model transfer over ``bandwidth_Bps``."""

    name: str
    factor: float = 1.0
    bandwidth_Bps: float = 10e9

    def __post_init__(self) -> None:
        if not (self.factor > 0 and self.bandwidth_Bps > 0):
            raise InputError("profile", f"{self.name}: factor and bandwidth_Bps must be positive")


def model_bytes(ops: Sequence[OpSpec]) -> int:
    """Bytes of fp32 weights of a model given by its operators."""
    return BYTES_PER_PARAM * sum(op.params() for op in ops)


def op_cost_fn(kb: KnowledgeBase, profile: CpuProfile) -> Callable[[OpSpec], float]:
    """Seconds one operator adds on a CPU profile: its scaled delay plus the transfer of its weights."""
    return lambda op: profile.factor * kb.lookup(op) + BYTES_PER_PARAM * op.params() / profile.bandwidth_Bps


def cpu_latency(ops: Sequence[OpSpec], kb: KnowledgeBase, profile: CpuProfile) -> float:
    """Model latency (s) on a CPU: transfer + sum of operator delays."""
    return model_bytes(ops) / profile.bandwidth_Bps + profile.factor * sum(kb.lookup(op) for op in ops)


def fit_factor(ops: Sequence[OpSpec], kb: KnowledgeBase, target_s: float, bandwidth_Bps: float) -> float:
    """Per-device factor such that the CPU latency of ``ops`` equals a model-level measurement ``target_s``."""
    transfer = model_bytes(ops) / bandwidth_Bps
    host = sum(kb.lookup(op) for op in ops)
    if target_s <= transfer:
        raise InputError(
            "target latency", f"{target_s * 1e3:.3f} ms is not above the transfer time {transfer * 1e3:.3f} ms"
        )
    return (target_s - transfer) / host


def gpu_latency(kernel_s: np.ndarray, queue_s: float, h2d_s: float) -> float:
    """Pipelined GPU latency (s): copy-in, then kernel i starts at max(its enqueue time, end of kernel i-1).

    The end of the last kernel is max over j of ((j + 1) * queue_s + sum of kernels j..n-1), so the latency
    is ~ sum of kernels when they are long and ~ n * queue_s when launches dominate.
    """
    k = np.asarray(kernel_s, dtype=float)
    if k.ndim != 1 or k.size == 0 or np.any(k < 0) or queue_s < 0 or h2d_s < 0:
        raise InputError("gpu latency", "needs a non-empty 1-D array of kernel times >= 0 and queue_s, h2d_s >= 0")
    tail = np.cumsum(k[::-1])[::-1]  # sum of kernels j..n-1
    return float(h2d_s + np.max(queue_s * np.arange(1, k.size + 1) + tail))
