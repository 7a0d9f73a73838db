"""Learning baselines: short runs end in feasible, evaluated decisions; trained learners beat their untrained
selves (a no-op optimiser step fails this)."""

from __future__ import annotations

import numpy as np
import pytest

from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.methods.leo_inference import learning
from offloadlab.scenarios.leo_inference.env import LeoInferenceParallelEnv
from offloadlab.scenarios.leo_inference.problem import PROBLEM, model_of


def test_marl_and_a3c_short_runs(small_json):
    inst = PROBLEM.load_instance(small_json)
    for fn, steps in ((learning.solve_marl, 60), (learning.solve_a3c, 60)):
        res = fn(PROBLEM, inst, steps, np.random.default_rng(0))
        assert res.feasible and res.objective <= 0.0
        assert res.stats["training"]["env_steps"] == steps
        assert res.stats["training"]["updates"] >= 3  # updated within the first episode (about 180 rounds)


@pytest.mark.parametrize("fn", [learning.solve_marl, learning.solve_a3c])
def test_trained_learner_beats_its_untrained_self(small_json, fn):
    inst = PROBLEM.load_instance(small_json)
    # same seed, so the same initial actors: budget 1 makes no update, the greedy episode is the untrained policy
    untrained = fn(PROBLEM, inst, 1, np.random.default_rng(0))
    short = fn(PROBLEM, inst, 100, np.random.default_rng(0))
    trained = fn(PROBLEM, inst, 500, np.random.default_rng(0))
    assert (
        untrained.stats["training"]["updates"] == 0
        and trained.stats["training"]["updates"] > short.stats["training"]["updates"] > 0
    )
    # the benefit placed (total_benefit: with the default overload a decision may break the load limit)
    benefit = [r.details["total_benefit"] for r in (untrained, short, trained)]
    assert benefit[0] < benefit[1] <= benefit[2] and benefit[2] > 1.2 * benefit[0]


@pytest.mark.parametrize(
    ("fn", "name", "value"),
    [
        (learning.solve_marl, "hidden", 0),
        (learning.solve_marl, "hidden", 10**30),
        (learning.solve_marl, "threads", 65),
        (learning.solve_marl, "learning_rate", 0.0),
        (learning.solve_a3c, "n_steps", 0),
        (learning.solve_a3c, "gamma", 1.5),
        (learning.solve_a3c, "threads", 10**30),
    ],
)
def test_learning_options_are_validated(fn, name, value):
    with pytest.raises(InputError, match=f"option {name}"):
        validate_options(fn, fn.__name__, {name: value})


def _always_offload(env):
    obs, _ = env.reset()
    while env.agents:
        obs, *_ = env.step({a: 1 for a in env.agents})
    return model_of(env.model.inst).decision_from_targets(env.target)


def test_learners_may_overload_like_the_papers_baselines():
    # one server with one 2-slot container at p = 0.5: one task at a time within the limit, two beyond it
    data = PROBLEM.make_instance(
        1,
        "paper",
        hours=0.005,
        arrivals="heavy",
        contact_model="always",
        servers=1,
        containers_per_server=1,
        container_slots=2,
    )
    inst = PROBLEM.load_instance(data)
    over = PROBLEM.evaluate(inst, _always_offload(LeoInferenceParallelEnv(inst, overload=True)))
    assert over.details["max_container_load"][0] == pytest.approx(1.0)  # beyond p = 0.5, up to every slot
    assert not over.feasible[0] and "container_load" in over.violations[0]
    kept = PROBLEM.evaluate(inst, _always_offload(LeoInferenceParallelEnv(inst)))
    assert kept.feasible[0] and kept.details["max_container_load"][0] == pytest.approx(0.5)
    for fn in (learning.solve_marl, learning.solve_a3c):  # the option reaches the env (untrained policies)
        assert fn(PROBLEM, inst, 1, np.random.default_rng(0)).details["max_container_load"] == pytest.approx(1.0)
        limited = fn(PROBLEM, inst, 1, np.random.default_rng(0), overload=False)
        assert limited.feasible and limited.details["max_container_load"] <= 0.5
