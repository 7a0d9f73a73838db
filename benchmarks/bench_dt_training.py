"""dt-vehicular: training speed of MARL (MADDPG) and SARL (independent local DDPG), slots per second.

Run from the repository root: .venv/bin/python benchmarks/bench_dt_training.py [--N 4 8 10 --episodes 40]
For each method and N it times one whole training run (``learners.train``, 10-slot episodes, the solver's
default hyper-parameters, one torch thread) and, separately, the parts of a slot: one env step (random
actions, resets included), one deterministic act of the N actors, and one update of every critic and
actor on a replay batch. ``--against REV`` (e.g. the commit before the batched learners) also runs the
same measurements on that revision's ``src`` (exported with ``git archive`` into a temporary folder) in a
subprocess and prints both side by side with the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def per_call_ms(fn: Any, calls: int) -> float:
    """Mean wall time of ``calls`` calls, in ms."""
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return 1e3 * (time.perf_counter() - t0) / calls


def measure(method: str, N: int, episodes: int, calls: int) -> dict[str, Any]:
    """Time one training run of ``episodes`` 10-slot episodes and the parts of a slot."""
    from offloadlab.methods.dt_vehicular.hyper import MADDPG, SARL
    from offloadlab.methods.dt_vehicular.learners import ActorCritics, ReplayBuffer, train
    from offloadlab.rl.common import seed_torch
    from offloadlab.scenarios.dt_vehicular.env import DtVehicularParallelEnv
    from offloadlab.scenarios.dt_vehicular.model import make_params

    hp = MADDPG if method == "marl" else SARL
    p = make_params("default", N=N, K=3, slots=10)
    rng = np.random.default_rng(0)
    seed_torch(rng)
    steps = episodes * p.slots
    t0 = time.perf_counter()
    train(p, rng, steps, hp, method, False)
    wall = time.perf_counter() - t0

    env = DtVehicularParallelEnv(p, observation=hp.observation)
    obs_d, _ = env.reset(seed=1)
    obs_dim, act_dim = len(next(iter(obs_d.values()))), 2 * p.K
    agents = ActorCritics(N, obs_dim, act_dim, hp)
    buffer = ReplayBuffer(1000, N, obs_dim, act_dim)
    obs = np.stack(list(obs_d.values()))

    def env_step() -> None:
        if not env.agents:
            env.reset(seed=int(rng.integers(1000)))
        act = rng.uniform(size=(N, act_dim)).astype(np.float32)
        nxt = env.step({a: act[i] for i, a in enumerate(env.possible_agents)})[0]
        buffer.add(obs, act, 0.0, np.stack(list(nxt.values())))

    env_ms = per_call_ms(env_step, calls)
    act_ms = per_call_ms(lambda: agents.act(obs), calls)
    update_ms = per_call_ms(lambda: agents.update(*buffer.sample(rng, hp.batch_size)), calls)
    return {
        "method": method,
        "N": N,
        "slots": steps,
        "train_s": wall,
        "slots_per_s": steps / wall,
        "env_ms": env_ms,
        "act_ms": act_ms,
        "update_ms": update_ms,
    }


def run_revision(rev: str, args: list[str]) -> list[dict[str, Any]]:
    """The same measurements on revision ``rev``'s src, in a subprocess (its JSON output)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        out = subprocess.run([sys.executable, __file__, *args, "--json"], env=env, check=True, capture_output=True)
    return json.loads(out.stdout)


def main() -> None:
    """Measure, then print a table (or JSON with --json)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[4, 8, 10])
    ap.add_argument("--methods", nargs="+", default=["marl", "sarl"], choices=["marl", "sarl"])
    ap.add_argument("--episodes", type=int, default=40, help="training episodes of 10 slots per run")
    ap.add_argument("--calls", type=int, default=100, help="calls per timed part")
    ap.add_argument("--against", metavar="REV", help="also time this git revision's src and compare")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    argv = ["--N", *map(str, a.N), "--methods", *a.methods, "--episodes", str(a.episodes), "--calls", str(a.calls)]
    rows = [measure(m, n, a.episodes, a.calls) for m in a.methods for n in a.N]
    if a.json:
        print(json.dumps(rows))
        return
    old = {(r["method"], r["N"]): r for r in run_revision(a.against, argv)} if a.against else {}
    print(f"{'method':6} {'N':>3} {'slots':>6} {'train s':>8} {'slots/s':>8} {'env ms':>7} {'act ms':>7} {'upd ms':>7}")
    for r in rows:
        for tag, row in (("", r), (f"  {a.against}", old.get((r["method"], r["N"])))):
            if row is not None:
                times = f"{row['env_ms']:>7.2f} {row['act_ms']:>7.2f} {row['update_ms']:>7.2f}"
                print(
                    f"{row['method']:6} {row['N']:>3} {row['slots']:>6} {row['train_s']:>8.2f} "
                    f"{row['slots_per_s']:>8.1f} {times}{tag}"
                )
        if (r["method"], r["N"]) in old:
            o = old[(r["method"], r["N"])]
            print(
                f"{'':10} speed-up: training {r['slots_per_s'] / o['slots_per_s']:.2f}x, "
                f"update {o['update_ms'] / r['update_ms']:.2f}x"
            )


if __name__ == "__main__":
    main()
