"""The sparse (constellation-scale) model: equal to the dense one where every pair is visible, files,
memory estimate, solvers and refusals."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.io import read_data, write_data
from offloadlab.core.run import solve
from offloadlab.scenarios.satellite_mec import model, sparse
from offloadlab.scenarios.satellite_mec.problem import PROBLEM
from offloadlab.scenarios.satellite_mec.scale_params import scale_params

SMALL = {"planes": 12, "per_plane": 8, "N": 60, "I": 4, "lat_min_deg": 30.0, "lat_max_deg": 45.0}


def dense_to_sparse_decision(offload: np.ndarray, power: np.ndarray) -> dict[str, np.ndarray]:
    """The target vector of one-hot offload columns [B, M, N] (0 = local)."""
    target = np.where(offload.sum(axis=1) > 0, offload.argmax(axis=1) + 1, 0)
    return {"target": target.astype(float), "power_w": power}


@pytest.mark.parametrize("interference", ["physical", "paper"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_equals_dense_where_every_pair_is_visible(seed, interference):
    params = model.make_params("default", M=4, N=30, I=3, interference=interference)
    dense = model.generate_instance(params, seed)
    inst = sparse.from_dense(dense)
    assert inst.pairs == 4 * 30
    rng = np.random.default_rng(seed)
    batch = PROBLEM.random_decisions(dense, rng, 64)
    # also sparser decisions (few transmitters, one sub-channel each), where feasibility varies
    few = rng.random((64, 30)) < 0.2
    batch["offload"][:, :, :] *= few[:, None, :]
    batch["power_w"] *= few[:, :, None]
    want = model.evaluate(dense, batch["offload"], batch["power_w"])
    got = PROBLEM.evaluate(inst, dense_to_sparse_decision(batch["offload"], batch["power_w"]))
    if interference == "paper":  # the same operations in the same order: bit for bit
        np.testing.assert_array_equal(got.details["latency_s"], want.details["latency_s"])
    else:  # the interference sums run in another order (BLAS vs CSR): equal to round-off
        np.testing.assert_allclose(got.details["latency_s"], want.details["latency_s"], rtol=1e-13)
    np.testing.assert_array_equal(got.feasible, want.feasible)
    assert want.feasible.any() and not want.feasible.all()
    assert [v for v in got.violations] == [v for v in want.violations]


@pytest.fixture(scope="module")
def small_data():
    return PROBLEM.make_instance(3, "starlink", **SMALL)


def test_instance_from_orbits_has_visible_pairs_above_e_min(small_data):
    inst = PROBLEM.load_instance(small_data)
    assert isinstance(inst, sparse.SparseInstance) and inst.params.M == 96
    assert inst.pairs > 0 and inst.pair_elevation_deg.min() >= inst.params.e_min_deg
    # slant range between the orbit height and the e_min horizon (550 km shell, 25 deg: about 1,120 km)
    assert 549e3 < inst.pair_range_m.min() and inst.pair_range_m.max() < 1.2e6
    assert np.all(np.diff(inst.pair_key) > 0)


def test_npz_round_trip_of_instance_and_decision(small_data, tmp_path):
    write_data(tmp_path / "inst.npz", small_data)
    back = read_data(tmp_path / "inst.npz", "instance")
    assert set(back) == set(small_data) and back["params"] == small_data["params"]
    for key, value in small_data.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back[key], value)
            assert back[key].dtype == value.dtype
    a, b = PROBLEM.load_instance(small_data), PROBLEM.load_instance(back)
    decision = PROBLEM.random_decisions(a, np.random.default_rng(0), 1)
    write_data(tmp_path / "dec.npz", {k: v[0] for k, v in decision.items()})
    again = PROBLEM.decision_space(b).validate(read_data(tmp_path / "dec.npz", "decision"))
    ev_a = PROBLEM.evaluate(a, decision)
    ev_b = PROBLEM.evaluate(b, {k: v[None] for k, v in again.items()})
    np.testing.assert_array_equal(ev_a.details["latency_s"], ev_b.details["latency_s"])
    # the JSON contract carries the same fields
    write_data(tmp_path / "inst.json", small_data)
    c = PROBLEM.load_instance(read_data(tmp_path / "inst.json", "instance"))
    np.testing.assert_array_equal(PROBLEM.evaluate(c, decision).details["latency_s"], ev_a.details["latency_s"])


def test_npz_errors_are_one_line(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable .npz"):
        read_data(tmp_path / "bad.npz", "instance")
    with pytest.raises(InputError, match="not found"):
        read_data(tmp_path / "missing.npz", "instance")


def test_load_rejects_unsorted_or_out_of_range_pairs(small_data):
    bad = dict(small_data, pair_sat=small_data["pair_sat"][::-1].copy())
    with pytest.raises(InputError, match="sorted"):
        PROBLEM.load_instance(bad)
    bad = dict(small_data, pair_terminal=small_data["pair_terminal"] + 10_000)
    with pytest.raises(InputError, match="pair_terminal"):
        PROBLEM.load_instance(bad)
    bad = {k: v for k, v in small_data.items() if k != "pair_range_m"}
    with pytest.raises(InputError, match="pair_range_m"):
        PROBLEM.load_instance(bad)


def test_memory_estimate_covers_generation_and_evaluation():
    overrides = {**SMALL, "N": 3000, "I": 8}
    params = scale_params("starlink", **overrides)
    tracemalloc.start()
    data = PROBLEM.make_instance(0, "starlink", **overrides)
    inst = PROBLEM.load_instance(data)
    PROBLEM.evaluate(inst, PROBLEM.random_decisions(inst, np.random.default_rng(0), 1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    exact = params.estimate_bytes(pairs=inst.pairs)
    assert peak <= exact <= 4 * peak
    # before any geometry, the estimate bounds the pairs from above
    assert params.expected_pairs() >= inst.pairs and params.estimate_bytes() >= exact


def test_target_must_be_visible_and_repair_makes_it_local(small_data):
    inst = PROBLEM.load_instance(small_data)
    unseen = np.flatnonzero(inst.visible_count < inst.params.M)[0]
    seen = set(inst.pair_sat[inst.pair_terminal == unseen])
    m = next(k for k in range(inst.params.M) if k not in seen)
    decision = PROBLEM.local_decision(inst)
    decision["target"][unseen], decision["power_w"][unseen, 0] = m + 1, 0.1
    ev = PROBLEM.evaluate(inst, {k: v[None] for k, v in decision.items()})
    assert ev.violations[0] == ["target_not_visible"] and not ev.feasible[0]
    fixed = PROBLEM.repair(inst, {k: v[None] for k, v in decision.items()})
    assert fixed["target"][0, unseen] == 0 and fixed["power_w"][0, unseen].sum() == 0
    assert PROBLEM.evaluate(inst, fixed).feasible[0]


def test_genome_decodes_to_visible_targets_and_encodes_back(small_data):
    inst = PROBLEM.load_instance(small_data)
    genome = PROBLEM.genome(inst)
    rng = np.random.default_rng(1)
    X = rng.uniform(genome.lo, genome.hi, size=(16, len(genome.lo)))
    d = genome.decode(X)
    assert PROBLEM.evaluate(inst, d).violation_counts().max() <= 1  # at most the deadline
    assert "target_not_visible" not in {v for row in PROBLEM.evaluate(inst, d).violations for v in row}
    again = genome.decode(genome.encode(d))
    np.testing.assert_array_equal(again["target"], d["target"])
    np.testing.assert_allclose(again["power_w"], d["power_w"])


@pytest.mark.parametrize(("solver", "budget"), [("local", None), ("random", 4), ("ga", 300), ("reference", None)])
def test_solvers_return_feasible_or_reported_results(small_data, solver, budget):
    _, inst, result = solve(small_data, solver, 0, budget)
    assert result.feasible or result.details["violations"]
    assert set(result.decision) == {"target", "power_w"}
    local = PROBLEM.evaluate(inst, {k: v[None] for k, v in PROBLEM.local_decision(inst).items()})
    if solver in ("ga", "reference"):  # both start from or keep all-local, so never worse
        assert result.feasible and result.objective <= local.objective[0] + 1e-12


def test_reference_beats_all_local_on_a_sparse_instance(small_data):
    _, inst, result = solve(small_data, "reference", 0, None)
    local = PROBLEM.evaluate(inst, {k: v[None] for k, v in PROBLEM.local_decision(inst).items()})
    assert result.feasible and result.objective < 0.99 * local.objective[0]


@pytest.mark.parametrize("solver", ["llm", "ddpg", "exhaustive"])
def test_dense_only_solvers_refuse_in_one_line(small_data, solver):
    with pytest.raises(InputError) as err:
        solve(small_data, solver, 0, 10)
    assert "\n" not in str(err.value) and "local, random, ga or reference" in str(err.value)


def test_llm_refuses_decisions_above_its_size_limit():
    from offloadlab.solvers.llm_opro import LLM_MAX_NUMBERS

    data = PROBLEM.make_instance(0, "default", M=20, N=200, I=16)
    assert 20 * 200 + 200 * 16 > LLM_MAX_NUMBERS
    with pytest.raises(InputError, match="at most"):
        solve(data, "llm", 0, 10)


def test_tle_file_gives_the_same_instance_as_its_shells(small_data, tmp_path):
    path = tmp_path / "shell.tle"
    path.write_text("".join(f"SAT-{k}\n{a}\n{b}\n" for k, (a, b) in enumerate(small_data["tle"])))
    data = PROBLEM.make_instance(3, "starlink", **SMALL, tle_file=str(path))
    assert data["params"]["M"] == len(small_data["tle"])
    for key in ("pair_sat", "pair_terminal", "pair_range_m", "pair_fading_power"):
        np.testing.assert_array_equal(data[key], small_data[key])


def test_clustered_terminals_stay_in_the_region():
    data = PROBLEM.make_instance(0, "starlink", **SMALL, layout="clustered", clusters=3, cluster_km=400.0)
    lat, lon = data["terminal_lat_deg"], data["terminal_lon_deg"]
    assert lat.min() >= SMALL["lat_min_deg"] and lat.max() <= SMALL["lat_max_deg"]
    assert lon.min() >= -125.0 and lon.max() <= -67.0
    # one cluster of 50 km: latitudes spread about 50 / 111 deg (uniform over 15 deg: about 4.3)
    one = PROBLEM.make_instance(0, "starlink", **SMALL, layout="clustered", clusters=1, cluster_km=50.0)
    assert 0.3 < np.std(one["terminal_lat_deg"]) < 0.6
