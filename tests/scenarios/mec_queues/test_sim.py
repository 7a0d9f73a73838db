"""The vectorised simulator against hand-worked traces and a per-task port of fog_env.py's rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offloadlab.scenarios.mec_queues.params import make_params
from offloadlab.scenarios.mec_queues.problem import episode_metrics
from offloadlab.scenarios.mec_queues.sim import QueueSim
from tests.scenarios.mec_queues.fog_reference import FogReference

# Tang & Wong's rates: local 0.25/0.297 = 0.8418 Mbit/slot, upload 1.4 Mbit/slot, server 14.07 Mbit/slot


def run(arrivals: list[list[float]], actions: list[list[int]], **over) -> QueueSim:
    """Simulate one copy of a hand-made trace with tang-wong parameters and overrides."""
    arr = np.array(arrivals, dtype=float)
    over = {"devices": arr.shape[1], "servers": 1, "slots": arr.shape[0], "drain_slots": 10, **over}
    sim = QueueSim(make_params("tang-wong", **over), arr)
    sim.run(np.array(actions))
    return sim


def test_local_tasks_fifo():
    # 2.0 Mbit needs 3 slots (0, 1, 2): delay 3; 1.0 Mbit arriving at slot 1 waits, runs slots 3-4: delay 4
    sim = run([[2.0], [1.0], [0.0]], [[0], [0], [0]])
    assert sim.delay[0, :2, 0].tolist() == [3, 4]
    assert not sim.dropped.any()


def test_upload_waits_behind_another():
    # upload 2.0 in slots 0-1, server slot 2: delay 3; upload 3.0 waits, slots 2-4, server slot 5: delay 5
    sim = run([[2.0], [3.0]], [[1], [1]])
    assert sim.delay[0, :2, 0].tolist() == [3, 5]


def test_two_devices_share_a_server_with_lagged_count():
    # server of 1 Mbit/slot. Device 0 uploads 1.4 in slot 0, device 1 uploads 2.8 in slots 0-1.
    # slot 1: the count from the end of slot 0 is 1, so device 0 gets the whole 1.0 (0.4 left) although
    # device 1's task has just reached the server; slot 2: count 2, 0.5 each, device 0 done (delay 3);
    # slots 3-5: device 1 alone, 2.3 -> 1.3 -> 0.3 -> done in slot 5 (delay 6)
    sim = run([[1.4, 2.8]], [[1, 1]], server_ghz=[2.97])
    assert sim.delay[0, 0].tolist() == [3, 6]
    assert sim.work[0, 0] == pytest.approx(4.2)


def test_drop_at_deadline_and_queued_task():
    # 9 Mbit locally needs 11 slots > D = 10: dropped in slot 9 (delay D); the 2 Mbit task behind it
    # starts in slot 10 at age 10 and is dropped there too
    sim = run([[9.0], [2.0]], [[0], [0]])
    assert sim.delay[0, :2, 0].tolist() == [10, 10]
    assert sim.dropped[0, :2, 0].tolist() == [True, True]


def test_drop_at_server_queue_head():
    # D = 3: 4.0 Mbit uploads in slots 0-2 (age 3) and reaches the server at age 4: dropped on pickup
    sim = run([[4.0]], [[1]], deadline_slots=3, drain_slots=3)
    assert sim.dropped[0, 0, 0] and sim.delay[0, 0, 0] == 3


def test_end_of_episode_leftover_is_dropped():
    # no drain: the 5 Mbit task of the last slot is unfinished when the horizon ends -> dropped, counted D
    sim = run([[0.0], [2.0], [5.0]], [[0], [0], [0]], drain_slots=0)
    m = episode_metrics(sim)
    assert sim.dropped[0, 2, 0] and sim.delay[0, 2, 0] == 10
    assert sim.dropped[0, 1, 0] and sim.delay[0, 1, 0] == 10  # 2 Mbit needs 3 slots, only 2 left
    assert m["drop_rate"][0] == 1.0 and m["mean_delay_slots"][0] == 10


def test_fog_reference_records_elapsed_slots_for_leftovers():
    # the one documented difference: fog_env.py gives a leftover the elapsed slots, not D
    ref = FogReference(1, [41.8], np.array([[0.0], [2.0], [5.0]]), 10)
    ref.run(np.zeros((3, 1), dtype=int))
    assert ref.delay[1:, 0].tolist() == [2, 1] and ref.unfinished[1:, 0].all()


def compare(seed: int, drain: int) -> None:
    """Random trace and actions: vectorised simulator vs the per-task reference, task by task."""
    rng = np.random.default_rng(seed)
    D, S, T = int(rng.integers(1, 9)), int(rng.integers(1, 5)), int(rng.integers(3, 40))
    dl = int(rng.integers(2, 12))
    p = make_params(
        "comllm",
        devices=D,
        servers=S,
        slots=T,
        drain_slots=drain,
        deadline_slots=dl,
        arrival_prob=float(rng.uniform(0.1, 0.9)),
    )
    arr = rng.uniform(0.5, 6, (T, D)) * (rng.uniform(size=(T, D)) < p.arrival_prob)
    acts = rng.integers(0, S + 1, (T, D))
    sim = QueueSim(p, arr)
    sim.run(acts)
    full = np.vstack([arr, np.zeros((drain, D))])
    ref = FogReference(D, p.server_ghz, full, dl)
    ref.run(np.vstack([acts, np.zeros((drain, D), dtype=int)]))
    mask = arr > 0
    left = ref.unfinished[:T] & (ref.delay[:T] < dl)  # leftovers at the horizon: D here, elapsed there
    np.testing.assert_array_equal(sim.delay[0, :T][mask & ~left], ref.delay[:T][mask & ~left])
    np.testing.assert_array_equal(sim.delay[0, :T][left], dl)
    np.testing.assert_array_equal(sim.dropped[0, :T][mask], ref.unfinished[:T][mask])
    np.testing.assert_allclose(sim.b_srv[0], ref.b_srv)
    np.testing.assert_array_equal(sim.t_comp[0], ref.t_comp)
    np.testing.assert_array_equal(sim.t_tran[0], ref.t_tran)
    np.testing.assert_array_equal(sim.m_used[0], ref.m_used)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), drain=st.sampled_from([0, 3, 10]))
def test_matches_fog_reference_task_by_task(seed: int, drain: int):
    compare(seed, drain)


def test_batch_copies_are_independent():
    p = make_params("comllm", devices=4, servers=3, slots=20)
    rng = np.random.default_rng(3)
    arr = rng.uniform(2, 5, (20, 4)) * (rng.uniform(size=(20, 4)) < 0.5)
    acts = rng.integers(0, 4, (3, 20, 4))
    batch = QueueSim(p, np.broadcast_to(arr, (3, 20, 4)))
    batch.run(acts)
    for b in range(3):
        one = QueueSim(p, arr)
        one.run(acts[b])
        np.testing.assert_array_equal(batch.delay[b], one.delay[0])


def test_tile_continues_like_the_original():
    p = make_params("comllm", devices=5, servers=3, slots=15)
    rng = np.random.default_rng(4)
    arr = rng.uniform(2, 5, (15, 5)) * (rng.uniform(size=(15, 5)) < 0.6)
    acts = rng.integers(0, 4, (15, 5))
    sim = QueueSim(p, arr)
    for t in range(6):
        sim.step(acts[t])
    twin = sim.tile(2)
    sim.run(acts)
    twin.run(np.broadcast_to(acts, (2, 15, 5)))
    np.testing.assert_array_equal(twin.delay[1], sim.delay[0])


def test_tile_of_several_copies_repeats_each_copy_in_place():
    p = make_params("comllm", devices=4, servers=3, slots=12)
    rng = np.random.default_rng(5)
    arr = rng.uniform(2, 5, (3, 12, 4)) * (rng.uniform(size=(3, 12, 4)) < 0.7)
    acts = rng.integers(0, 4, (3, 12, 4))
    sim = QueueSim(p, arr)
    for t in range(5):
        sim.step(acts[:, t])
    twin = sim.tile(2)  # copies b = 0, 1, 2 -> 0 1 | 2 3 | 4 5
    sim.run(acts)
    twin.run(np.repeat(acts, 2, axis=0))
    np.testing.assert_array_equal(twin.delay, np.repeat(sim.delay, 2, axis=0))
    np.testing.assert_array_equal(twin.work, np.repeat(sim.work, 2, axis=0))
    assert not np.array_equal(sim.delay[0], sim.delay[1])  # the copies differ, so an order mix-up would show


def test_backlogs_match_a_scan_of_the_queues():
    p = make_params("comllm", devices=6, servers=3, slots=30)
    rng = np.random.default_rng(8)
    arr = rng.uniform(2, 5, (30, 6)) * (rng.uniform(size=(30, 6)) < 0.7)
    acts = rng.integers(0, 4, (30, 6))
    sim = QueueSim(p, arr)
    for t in range(12):
        sim.step(acts[t])
    # brute force: every task whose arrival is recorded, by stage
    done = ~np.isnan(sim.delay[0])
    srv = np.zeros(3)
    up = np.zeros(3)
    for d in range(6):
        for s in range(3):
            q = sim.srv
            row = d * 3 + s
            srv[s] += sum(arr[q.buf[row, k], d] for k in range(q.head[row], q.tail[row]))
            srv[s] += q.rem[row] if q.rem[row] > 0 else 0.0
        q = sim.tx
        for k in range(q.head[d], q.tail[d]):
            up[acts[q.buf[d, k], d] - 1] += arr[q.buf[d, k], d]
        if q.rem[d] > 0:
            up[acts[q.cur[d], d] - 1] += q.rem[d]
    assert done.any()
    np.testing.assert_allclose(sim.server_backlog_mbit()[0].sum(axis=0), srv)
    np.testing.assert_allclose(sim.upload_backlog_by_server()[0], up)
