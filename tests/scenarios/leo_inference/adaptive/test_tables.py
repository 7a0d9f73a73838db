"""Tables II-III data, profile fitting with search on a synthetic knowledge base, claims rows."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.methods.leo_inference.adaptive.latency import model_bytes
from offloadlab.methods.leo_inference.adaptive.operators import arch_ops
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, SearchSpace, base_arch
from offloadlab.methods.leo_inference.adaptive.tables import (
    Reproduced,
    claims,
    load_paper_tables,
    reproduce_tables,
)


def test_paper_tables_as_printed():
    t = load_paper_tables()
    assert len(t.rows) == 16 and t.interval_ms == (15.0, 20.0)
    assert t.original_acc_pct == {"mb": 72.0, "shuffle": 69.1}
    sd835 = [r for r in t.rows if r.processor == "Snapdragon 835"]
    assert [(r.family, r.wo_ms, r.w_ms, r.acc_pct) for r in sd835] == [
        ("mb", 36.8, 19.8, 71.16),
        ("shuffle", 34.2, 19.2, 68.25),
    ]
    below = sorted((r.family, r.processor) for r in t.rows if r.w_ms < 15)
    assert below == [
        ("mb", "Google Tensor"),
        ("mb", "Kirin 9000"),
        ("mb", "Snapdragon 695"),
        ("shuffle", "Kirin 9000"),
        ("shuffle", "Snapdragon 695"),
    ]


def test_reproduce_on_synthetic_kb_fits_base_and_lands_in_interval(synthetic_kb):
    acc = {f: (lambda g: float(g[:, 0].sum() + g[:, 3].sum()) / 100) for f in ("mb", "shuffle")}
    rows = reproduce_tables(synthetic_kb, acc, budget=8)
    assert len(rows) == 16
    for r in rows:
        assert r.base_ms == pytest.approx(r.paper_wo_ms)  # the fitted factor reproduces "without"
        assert 15.0 <= r.adapted_ms <= 20.0 and r.evaluated == 8
    # factor = (36.8 ms - transfer) / host sum over the MobileNetV3-like base, worked from its parts
    space = SearchSpace().narrowed("mb")
    ops = arch_ops(space, base_arch(space, "mb"), DEPLOY)
    transfer = model_bytes(ops) / 10e9
    sd835 = next(r for r in rows if r.processor == "Snapdragon 835" and r.family == "mb")
    assert sd835.factor == pytest.approx((36.8e-3 - transfer) / sum(synthetic_kb.lookup(o) for o in ops))


def _row(proc: str, fam: str, adapted: float, base_acc: float, acc: float) -> Reproduced:
    return Reproduced(proc, fam, 30.0, 18.0, 72.0, 1.0, 30.0, adapted, base_acc, acc, [], 10, 100, "exhaustive")


def test_claims_rows():
    rows = [
        _row("a", "mb", 16.0, 97.0, 96.0),
        _row("b", "mb", 19.5, 97.0, 95.5),
        _row("a", "shuffle", 17.0, 95.0, 90.0),
    ]
    curves = {"gd": np.array([2.3, 2.2, 2.1, 2.0]), "nag": np.array([2.3, 2.1, 1.9, 1.7])}
    table = claims(rows, curves)
    by = {r["claim"].split(":")[0]: r for r in table}
    assert [set(r) for r in table] == [{"claim", "paper", "measured", "holds"}] * len(table)
    printed = table[0]
    assert not printed["holds"] and "Kirin 9000 13.8 ms" in printed["measured"] and "11/16" in printed["measured"]
    assert table[1]["holds"] and "3/3 inside" in table[1]["measured"]
    assert by["MobileNetV3"]["holds"]  # drop 1.5 <= 2 points
    assert not by["ShuffleNetV2"]["holds"]  # drop 5 points
    assert table[-1]["holds"] and "100 %" in table[-1]["measured"]
    # stand-alone retrained accuracies take precedence over the supernet's
    rows[2] = Reproduced(
        "a", "shuffle", 30.0, 18.0, 69.0, 1.0, 30.0, 17.0, 95.0, 90.0, [], 10, 100, "exhaustive", 96.0, 95.5
    )
    retrained = {r["claim"].split(":")[0]: r for r in claims(rows, curves)}["ShuffleNetV2"]
    assert retrained["holds"] and "retrained stand-alone" in retrained["measured"]
    rows[1] = _row("b", "mb", 21.0, 97.0, 96.0)
    assert not claims(rows, curves)[1]["holds"]
    assert not claims(rows, {"gd": curves["nag"], "nag": curves["gd"]})[-1]["holds"]
    # "close to" is two-sided: an adapted model 10 points above its base is not close to it either
    rows[2] = _row("a", "shuffle", 17.0, 85.0, 95.0)
    risen = {r["claim"].split(":")[0]: r for r in claims(rows, curves)}["ShuffleNetV2"]
    assert not risen["holds"] and "largest difference either way 10.0" in risen["measured"]
    rows[2] = _row("a", "shuffle", 17.0, 85.0, 86.5)
    assert {r["claim"].split(":")[0]: r for r in claims(rows, curves)}["ShuffleNetV2"]["holds"]
