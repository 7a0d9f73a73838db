"""Everything the paper's Sec. IX-B shows, from one call: supernets, Tables II-III, Fig. 6, claims."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from offloadlab.methods.leo_inference.adaptive.concrete import concrete_net, measure_model
from offloadlab.methods.leo_inference.adaptive.figures import fig6, tables_figure
from offloadlab.methods.leo_inference.adaptive.knowledge_base import KnowledgeBase, Protocol, shipped_host_kb
from offloadlab.methods.leo_inference.adaptive.latency import CpuProfile, cpu_latency
from offloadlab.methods.leo_inference.adaptive.nag import gradient_descent, nesterov
from offloadlab.methods.leo_inference.adaptive.operators import arch_ops
from offloadlab.methods.leo_inference.adaptive.search import AccuracyFn
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, SearchSpace, base_arch
from offloadlab.methods.leo_inference.adaptive.supernet import (
    Digits,
    Supernet,
    load_digits_split,
    subnet_accuracy,
    supernet_objective,
    train_supernet,
)
from offloadlab.methods.leo_inference.adaptive.tables import FAMILIES, cached, claims, reproduce_tables

WIDTH = 0.25  # the digits twin has a quarter of the widths: same genes, 8 x 8 inputs need no more


def fig6_curves(
    steps: int = 60,
    beta: float = 0.01,
    archs: int = 2,
    samples: int = 128,
    family: str = "mb",
    seed: int = 0,
    data: Digits | None = None,
) -> dict[str, np.ndarray]:
    """Loss curves of plain GD and NAG from the same initial weights on eq. 31's objective: the mean
    cross-entropy of ``archs`` fixed random subnets of a fresh digits supernet on ``samples`` training images."""
    data = data or load_digits_split(seed)
    torch.manual_seed(seed)
    space = SearchSpace().scaled(WIDTH).narrowed(family)
    net = Supernet(space)
    sub = Digits(data.x_train[:samples], data.y_train[:samples], data.x_val, data.y_val)
    fg, w0 = supernet_objective(net, sub, space.sample(archs, np.random.default_rng(seed)))
    _, gd = gradient_descent(fg, w0, beta, steps)
    _, nag = nesterov(fg, w0, beta, steps)
    return {"iteration": np.arange(steps), "gd": gd, "nag": nag}


def train_family_supernets(
    seed: int = 0, epochs: int = 8, data: Digits | None = None
) -> tuple[dict[str, AccuracyFn], dict[str, Any]]:
    """One digits supernet per model family; cached validation-accuracy functions and training reports."""
    data = data or load_digits_split(seed)
    accuracy: dict[str, AccuracyFn] = {}
    reports = {}
    for fam in FAMILIES:
        net = Supernet(SearchSpace().scaled(WIDTH).narrowed(fam))
        reports[fam] = asdict(train_supernet(net, data, epochs=epochs, seed=seed))

        def acc(genes: np.ndarray, net: Supernet = net) -> float:
            return subnet_accuracy(net, genes, data.x_val, data.y_val)

        accuracy[fam] = cached(acc)
    return accuracy, reports


def additivity(kb: KnowledgeBase, protocol: Protocol = Protocol()) -> dict[str, dict[str, float]]:
    """Per family, the base model's host latency predicted from the knowledge base (transfer + sum) and
    measured end to end with the same protocol, in ms."""
    out = {}
    for fam in FAMILIES:
        space = SearchSpace().narrowed(fam)
        arch = base_arch(space, fam)
        predicted = cpu_latency(arch_ops(space, arch, DEPLOY), kb, CpuProfile("host"))
        measured = measure_model(concrete_net(space, arch, DEPLOY), DEPLOY, protocol)
        out[fam] = {"predicted_ms": 1e3 * predicted, "measured_ms": 1e3 * measured, "ratio": predicted / measured}
    return out


def standalone_trainer(data: Digits, epochs: int = 3, seed: int = 0) -> Callable[[str, np.ndarray], float]:
    """(family, genes) -> validation accuracy of that architecture trained alone from scratch (the usual
    retraining of one-shot NAS winners), memoised."""
    memo: dict[tuple[str, bytes], float] = {}

    def accuracy(family: str, genes: np.ndarray) -> float:
        key = (family, np.asarray(genes, dtype=np.int64).tobytes())
        if key not in memo:
            torch.manual_seed(seed)
            net = Supernet(SearchSpace().scaled(WIDTH).narrowed(family))
            train_supernet(net, data, epochs=epochs, seed=seed, fixed=genes)
            memo[key] = subnet_accuracy(net, genes, data.x_val, data.y_val)
        return memo[key]

    return accuracy


def reproduce(
    outdir: Path,
    kb: KnowledgeBase | None = None,
    seed: int = 0,
    protocol: Protocol = Protocol(),
    retrain_epochs: int = 3,
) -> dict[str, Any]:
    """Train, search, retrain the winners and the bases stand-alone (``retrain_epochs``; 0: skip), draw and
    write results.json / claims.json / fig6.png / tables_ii_iii.png into ``outdir`` (torch with one thread,
    restored afterwards); returns a summary. ``protocol`` times the end-to-end additivity check."""
    outdir.mkdir(parents=True, exist_ok=True)
    kb = kb or shipped_host_kb()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        data = load_digits_split(seed)
        accuracy, training = train_family_supernets(seed, data=data)
        t1 = time.perf_counter()
        retrain = standalone_trainer(data, retrain_epochs, seed) if retrain_epochs > 0 else None
        rows = reproduce_tables(kb, accuracy, seed=seed, retrain=retrain)
        t2 = time.perf_counter()
        curves = fig6_curves(seed=seed, data=data)
        t3 = time.perf_counter()
        additive = additivity(kb, protocol)
    finally:
        torch.set_num_threads(threads)
    table = claims(rows, curves)
    fig6(curves, outdir / "fig6.png")
    tables_figure(rows, outdir / "tables_ii_iii.png")
    results = {
        "rows": [asdict(r) for r in rows],
        "training": training,
        "additivity": additive,
        "fig6": {k: np.asarray(v).tolist() for k, v in curves.items()},
        "seconds": {"train": t1 - t0, "search_and_retrain": t2 - t1, "fig6": t3 - t2},
    }
    (outdir / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (outdir / "claims.json").write_text(json.dumps(table, indent=1) + "\n")
    return {"claims": table, "seconds": results["seconds"], "training": training, "additivity": additive}
