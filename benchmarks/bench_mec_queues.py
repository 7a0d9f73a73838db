"""mec-queues: slots per second of the vectorised simulator vs a straightforward per-task loop.

Run from the repository root: .venv/bin/python benchmarks/bench_mec_queues.py [--devices 50 --servers 5]
Both play the same tang-wong trace with the same random actions (and agree task by task, which the
tests check); the per-task loop is the test oracle tests/scenarios/mec_queues/fog_reference.py.
Prints slots per second of each and their ratio; the batched line runs B copies at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for the tests package

from tests.scenarios.mec_queues.fog_reference import FogReference  # noqa: E402

from offloadlab.scenarios.mec_queues.params import make_params  # noqa: E402
from offloadlab.scenarios.mec_queues.sim import QueueSim  # noqa: E402


def best_of(fn, repeats: int) -> float:
    """Fastest wall time of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Time both simulators and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--servers", type=int, default=5)
    ap.add_argument("--slots", type=int, default=100)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    p = make_params("tang-wong", devices=a.devices, servers=a.servers, slots=a.slots)
    rng = np.random.default_rng(0)
    arr = rng.uniform(2, 5, (a.slots, a.devices)) * (rng.uniform(size=(a.slots, a.devices)) < p.arrival_prob)
    acts = rng.integers(0, a.servers + 1, (a.slots, a.devices))
    full_arr = np.vstack([arr, np.zeros((p.drain_slots, a.devices))])
    full_acts = np.vstack([acts, np.zeros((p.drain_slots, a.devices), dtype=int)])
    H = p.horizon

    vec = best_of(lambda: QueueSim(p, arr).run(acts), a.repeats)
    loop = best_of(lambda: FogReference(a.devices, p.server_ghz, full_arr, p.deadline_slots).run(full_acts), a.repeats)
    batch = best_of(
        lambda: QueueSim(p, np.broadcast_to(arr, (a.batch, *arr.shape))).run(
            np.broadcast_to(acts, (a.batch, *acts.shape))
        ),
        a.repeats,
    )
    print(f"mec-queues simulator, {a.devices} devices x {a.servers} servers, {H} slots, best of {a.repeats}")
    print(f"{'simulator':<28}{'slots/s':>12}{'ratio':>8}")
    print(f"{'per-task loop':<28}{H / loop:>12.0f}{1.0:>8.1f}")
    print(f"{'vectorised (1 copy)':<28}{H / vec:>12.0f}{loop / vec:>8.1f}")
    print(f"{f'vectorised ({a.batch} copies)':<28}{a.batch * H / batch:>12.0f}{a.batch * loop / batch:>8.1f}")


if __name__ == "__main__":
    main()
