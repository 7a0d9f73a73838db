"""The on-board model variant (Tables II-III) feeds each task's latency and accuracy in the offloading scenario."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.scenarios.leo_inference.model import Model
from offloadlab.scenarios.leo_inference.problem import PROBLEM
from offloadlab.scenarios.leo_inference.variants import load_paper_tables, onboard_variant

TABLE = {  # (family, processor): (w/o ms, w ms, ACC %) as printed in Tables II and III
    ("MobileNetV3", "Snapdragon 835"): (36.8, 19.8, 71.16),
    ("MobileNetV3", "Google Tensor"): (22.1, 13.8, 76.82),
    ("ShuffleNetV2", "Snapdragon 835"): (34.2, 19.2, 68.25),
    ("ShuffleNetV2", "Kirin 9000"): (20.9, 14.5, 71.91),
}
ORIGINAL = {"MobileNetV3": 0.72, "ShuffleNetV2": 0.691}


@pytest.mark.parametrize("family, processor", list(TABLE))
def test_variant_is_the_tables_row(family, processor):
    wo, w, acc = TABLE[(family, processor)]
    assert onboard_variant(family, processor, adapted=False) == pytest.approx((wo, ORIGINAL[family]))
    assert onboard_variant(family, processor, adapted=True) == pytest.approx((w, acc / 100))


def test_unknown_processor_or_family_is_named():
    with pytest.raises(InputError, match="Apple M1") as err:
        onboard_variant("MobileNetV3", "Apple M1", adapted=True)
    assert err.value.field == "processor"
    with pytest.raises(InputError) as err:
        load_paper_tables().row("ResNet50", "Kirin 980")
    assert err.value.field == "model_family"


def _model(**params) -> Model:
    data = PROBLEM.make_instance(2, "paper", hours=0.02, contact_model="always", arrivals="light", **params)
    return Model(PROBLEM.load_instance(data))


@pytest.mark.parametrize("family", ["MobileNetV3", "ShuffleNetV2"])
def test_chosen_variant_sets_each_tasks_latency_and_accuracy(family):
    orig, adapt = _model(model_family=family), _model(model_family=family, local_model="adapted")
    inst_o, inst_a = orig.inst, adapt.inst
    assert np.array_equal(inst_o.task_t, inst_a.task_t)  # same tasks, only the on-board model differs
    for k, proc in enumerate(inst_a.processor):
        row = load_paper_tables().row(family, proc)
        assert inst_o.local_ms_per_image[k] == row.wo_ms and inst_o.local_accuracy[k] == ORIGINAL[family]
        assert inst_a.local_ms_per_image[k] == row.w_ms and inst_a.local_accuracy[k] == pytest.approx(row.acc_pct / 100)
    # c(m_i) = images x ms per image; the benefit's accuracy term (1 - alpha)(a_s - a_i) uses the variant's a_i
    p = inst_a.params
    n = 0
    k = inst_a.task_sat[n]
    assert inst_a.local_s[n] == pytest.approx(p.images_per_task * inst_a.local_ms_per_image[k] / 1000)
    delta_c = inst_a.local_s[n] - p.server_task_s - adapt.transfer_s[n]
    x = p.alpha * delta_c + (1 - p.alpha) * (p.server_accuracy - inst_a.local_accuracy[k])
    assert adapt.benefit[n] == pytest.approx(max(x, 0.0))
    # run on board, the first task of each satellite (nothing queued before it) takes its variant's time
    none = np.full(inst_a.n_tasks, -1)
    for model in (orig, adapt):
        lat = model.simulate(none)["latency"]
        first = np.unique(model.inst.task_sat, return_index=True)[1]
        assert np.allclose(lat[first], model.inst.local_s[first])


def test_mean_accuracy_of_a_run_follows_the_variant():
    for local_model in ("original", "adapted"):
        m = _model(local_model=local_model)
        n = m.inst.n_tasks
        _, _, local = m.evaluate_one(np.zeros(n), np.zeros((n, m.p.servers)), np.zeros((n, m.p.containers)))
        assert local["mean_accuracy"] == pytest.approx(m.inst.local_accuracy[m.inst.task_sat].mean())
        everything = m.decision_from_targets(np.zeros(n, int))
        _, _, off = m.evaluate_one(everything["offload"], everything["server"], everything["container"])
        assert off["mean_accuracy"] == pytest.approx(m.p.server_accuracy)
    adapted = _model(local_model="adapted").inst
    # Table II: every adapted variant is at least as fast; the mean accuracy over the 8 processors rises
    assert np.all(adapted.local_ms_per_image < _model().inst.local_ms_per_image)
