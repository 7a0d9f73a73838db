"""Pure vectorised model of seed 003: offloading benefit (eqs. 2-5), loads and constraints (6-8), queues,
and the evaluation of a three-layer decision y.

Shapes: N tasks, S servers, O containers (container o belongs to server o // containers_per_server),
R scheduling rounds. Decision: y1 [N] (satellite offloads to the LBS), y2 [N, S] (LBS -> server),
y3 [N, O] (server -> container), all 0/1.

Loads are linear (ours): L_o(Q) = Q / slots_o, L_s(Q) = Q / (slots of s), L_S(Q) = Q / (all slots), i.e. the
fraction of busy task slots; a task needing u slots (``task_slots``) counts u. Q is observed at the start of
each round (``round_s``) and includes tasks still in transit or queued; a task of round r counts in Y(r).
Constraints (all <= p): container (6), cluster (8, first line). With the per-task linking constraints
sum_o y3 = y2, sum_s y2 = y1 and equal servers, the second and third lines of (8) hold with equality, so
they are implied (see the docs). A result not back within its contact window is a violation (window_miss).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from offloadlab.core.problem import Evaluation
from offloadlab.physics.queues import fifo_multi, fifo_single
from offloadlab.scenarios.leo_inference import links
from offloadlab.scenarios.leo_inference.instance import LeoInstance
from offloadlab.scenarios.leo_inference.params import LeoParams

LOAD_TOL = 1e-9


def benefit_fn(x: np.ndarray, params: LeoParams) -> np.ndarray:
    """F of eq. (2): zero for a negative argument; 'linear' max(x, 0), or the concave 'log' s log(1 + x / s)."""
    pos = np.maximum(np.asarray(x, float), 0.0)
    if params.benefit == "log":
        return params.benefit_scale * np.log1p(pos / params.benefit_scale)
    return pos


def benefit_argument(
    local_s: np.ndarray,
    server_s: float,
    transfer_s: np.ndarray,
    local_acc: np.ndarray | float,
    server_acc: float,
    alpha: float,
) -> np.ndarray:
    """alpha Delta_c + (1 - alpha) Delta_a with Delta_c = c(m_i) - c(m_e) - d (eq. 3), Delta_a = a_s - a_i (eq. 4)."""
    return alpha * (local_s - server_s - transfer_s) + (1.0 - alpha) * (server_acc - local_acc)


@dataclass(frozen=True, eq=False)
class Model:
    """An instance with its derived per-task quantities (paths, benefits, rounds), computed once."""

    inst: LeoInstance

    @property
    def p(self) -> LeoParams:
        """The parameters."""
        return self.inst.params

    @cached_property
    def paths(self) -> links.Paths:
        """Algorithm 4's path of each task."""
        return links.select_paths(self.inst)

    @cached_property
    def transfer_s(self) -> np.ndarray:
        """d of eq. (1) per task: raw data up plus (Case I) result back over the task's path [N]."""
        return self.paths.up_s + self.paths.back_s

    @cached_property
    def reachable(self) -> np.ndarray:
        """Whether each task has a path to the station [N]."""
        return self.paths.kind != links.NONE

    @cached_property
    def benefit(self) -> np.ndarray:
        """F(alpha Delta_c + (1 - alpha) Delta_a) per task, zero where unreachable [N]."""
        p = self.p
        x = benefit_argument(
            self.inst.local_s,
            p.server_task_s,
            self.transfer_s,
            self.inst.task_local_accuracy,
            p.server_accuracy,
            p.alpha,
        )
        return np.where(self.reachable, benefit_fn(x, p), 0.0)

    @cached_property
    def round_index(self) -> np.ndarray:
        """Scheduling round of each task [N]."""
        return np.minimum((self.inst.task_t // self.p.round_s).astype(int), self.n_rounds - 1)

    @property
    def n_rounds(self) -> int:
        """Number of rounds R."""
        return max(1, int(np.ceil(self.inst.horizon_s / self.p.round_s)))

    @property
    def server_of(self) -> np.ndarray:
        """Server of each container [O]."""
        return np.arange(self.p.containers) // self.p.containers_per_server

    def simulate(self, target: np.ndarray) -> dict[str, np.ndarray]:
        """Queues for one assignment (``target`` [N]: -1 local, else container): local processor and uplink
        per satellite (FIFO, one server), container (FIFO, one server per slot, c(m_e) each). A task of u slots
        is u parts on u cores of its container; it is done when its last part is."""
        inst, p = self.inst, self.p
        off = target >= 0
        lat = np.empty(inst.n_tasks)
        loc = ~off
        lat[loc] = fifo_single(inst.task_sat[loc], inst.task_t[loc], inst.local_s[loc]) - inst.task_t[loc]
        q0 = inst.initial_queue
        pre = np.repeat(np.arange(p.containers), q0)
        gs_arr = fifo_single(inst.task_sat[off], inst.task_t[off], self.paths.up_s[off])
        units = inst.task_slots[off]
        done_all = fifo_multi(
            np.concatenate([pre, np.repeat(target[off], units)]),
            np.concatenate([np.zeros(pre.size), np.repeat(gs_arr, units)]),
            np.asarray(p.slots_per_container),
            p.server_task_s,
        )
        parts = done_all[pre.size :]
        done = np.maximum.reduceat(parts, np.cumsum(units) - units) if units.size else parts
        lat[off] = done + self.paths.back_s[off] - inst.task_t[off]
        delivery = np.full(inst.n_tasks, np.nan)
        delivery[off] = gs_arr - inst.task_t[off]
        missed = np.zeros(inst.n_tasks, bool)
        # a task without a path is named as such (offload_without_path), not as a miss
        late = done + self.paths.back_s[off] > inst.task_t[off] + self.paths.window_s[off] + 1e-9
        missed[off] = late & self.reachable[off]
        return {"latency": lat, "delivery": delivery, "missed": missed, "done": done, "pre_done": done_all[: pre.size]}

    def round_loads(self, target: np.ndarray, sim: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Container load L_o(Q_o(r) + Y_o(r)) [R, O] and cluster load [R] at every round."""
        p, r_n, o_n = self.p, self.n_rounds, self.p.containers
        off = target >= 0
        units = self.inst.task_slots[off].astype(float)
        y = np.zeros((r_n, o_n))
        np.add.at(y, (self.round_index[off], target[off]), units)
        rs = p.round_s
        done_r = np.minimum(np.ceil(sim["done"] / rs - 1e-12).astype(int), r_n)
        dep = np.zeros((r_n + 1, o_n))
        np.add.at(dep, (done_r, target[off]), units)
        pre = np.repeat(np.arange(o_n), self.inst.initial_queue)
        np.add.at(dep, (np.minimum(np.ceil(sim["pre_done"] / rs - 1e-12).astype(int), r_n), pre), 1.0)
        arrived_before = np.vstack([np.zeros((1, o_n)), np.cumsum(y, axis=0)[:-1]]) + self.inst.initial_queue
        q = arrived_before - np.cumsum(dep, axis=0)[:r_n]
        slots = np.asarray(p.slots_per_container, float)
        load_o = (q + y) / slots
        load_cluster = (q + y).sum(axis=1) / slots.sum()
        return load_o, load_cluster

    def evaluate_one(self, y1: np.ndarray, y2: np.ndarray, y3: np.ndarray) -> tuple[float, dict[str, bool], dict]:
        """Objective (minus total benefit), broken constraints and details of one binary decision."""
        p = self.p
        per_server = y3.reshape(-1, p.servers, p.containers_per_server).sum(axis=2)
        checks = {
            "linking": bool(np.any(np.abs(y2.sum(axis=1) - y1) > 1e-9) or np.any(np.abs(per_server - y2) > 1e-9)),
            "offload_without_path": bool(np.any((y1 > 0.5) & ~self.reachable)),
        }
        target = np.where(y1 > 0.5, np.argmax(y3, axis=1), -1) if y3.size else np.full(y1.shape, -1)
        sim = self.simulate(target)
        load_o, load_c = self.round_loads(target, sim)
        checks["container_load"] = bool(np.any(load_o > p.load_threshold + LOAD_TOL))
        checks["cluster_load"] = bool(np.any(load_c > p.load_threshold + LOAD_TOL))
        # an offloaded task whose result is not back within its contact window (Algorithm 4's path)
        checks["window_miss"] = bool(np.any(sim["missed"]))
        off = target >= 0
        total = float(np.sum(self.benefit * off))
        busy_core_s = (self.inst.task_slots[off].sum() + self.inst.initial_queue.sum()) * p.server_task_s
        details = {
            "total_benefit": total,
            "mean_latency_s": float(sim["latency"].mean()) if sim["latency"].size else 0.0,
            # top-1 accuracy of the model each task ran on: the server's or its satellite's on-board variant
            "mean_accuracy": float(np.where(off, p.server_accuracy, self.inst.task_local_accuracy).mean())
            if off.size
            else 0.0,
            "offload_fraction": float(off.mean()) if off.size else 0.0,
            "mean_delivery_s": float(np.nanmean(sim["delivery"])) if off.any() else 0.0,
            "max_container_load": float(load_o.max()) if load_o.size else 0.0,
            "mean_cpu_utilisation": float(busy_core_s / (self.inst.horizon_s * sum(p.slots_per_container))),
            "window_misses": int(sim["missed"].sum()),
            "relayed": int(np.sum(off & (self.paths.kind >= links.SAME_ORBIT))),
        }
        return -total, checks, details

    def evaluate(self, y1: np.ndarray, y2: np.ndarray, y3: np.ndarray) -> Evaluation:
        """Batched evaluation ([B, N], [B, N, S], [B, N, O]); the queue simulation runs per decision."""
        vals, checks, details = [], [], []
        for b in range(y1.shape[0]):
            v, c, d = self.evaluate_one(y1[b], y2[b], y3[b])
            vals.append(v)
            checks.append(c)
            details.append(d)
        names = (
            list(checks[0])
            if checks
            else ["linking", "offload_without_path", "container_load", "cluster_load", "window_miss"]
        )
        table = {n: np.array([c[n] for c in checks], dtype=bool) for n in names}
        det = {k: np.array([d[k] for d in details]) for k in (details[0] if details else {})}
        return Evaluation.from_checks(np.asarray(vals, float), table, det)

    def decision_from_targets(self, target: np.ndarray) -> dict[str, np.ndarray]:
        """One-hot y1, y2, y3 from per-task targets (-1 local, else container)."""
        p, n = self.p, self.inst.n_tasks
        off = target >= 0
        y3 = np.zeros((n, p.containers))
        y3[np.flatnonzero(off), target[off]] = 1.0
        y2 = y3.reshape(n, p.servers, p.containers_per_server).sum(axis=2)
        return {"offload": off.astype(float), "server": y2, "container": y3}
