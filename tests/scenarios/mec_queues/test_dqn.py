"""Tang & Wong's DQN solver: network shape, dueling head, double-DQN target, a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import offloadlab.papers.mec_queues.plugin  # noqa: F401
from offloadlab.core.errors import InputError
from offloadlab.core.options import validate_options
from offloadlab.core.registry import get_solver
from offloadlab.core.run import solve
from offloadlab.methods.mec_queues.dqn import Agent, DuelingLstmQ
from offloadlab.methods.mec_queues.dqn_params import DqnParams
from offloadlab.scenarios.mec_queues.problem import PROBLEM
from tests.learning import assert_beats, untrained


def test_dueling_head_mean_of_q_is_value():
    net = DuelingLstmQ(n_features=6, n_servers=3, n_actions=4)
    obs, hist = torch.rand(5, 6), torch.rand(5, 10, 3)
    q = net(obs, hist)
    out, _ = net.lstm(hist)
    x = torch.relu(net.l2(torch.relu(net.l1(torch.cat([out[:, -1], obs], 1)))))
    assert q.shape == (5, 4)
    torch.testing.assert_close(q.mean(dim=1), net.value(x)[:, 0])


def test_double_dqn_target_uses_online_argmax_and_target_value():
    torch.manual_seed(0)
    agent = Agent(4, 1, np.random.default_rng(0), DqnParams(memory=32, batch=32))
    for _ in range(32):
        agent.store(
            np.ones(4, np.float32),
            np.zeros((10, 1), np.float32),
            1,
            -3.0,
            np.ones(4, np.float32),
            np.zeros((10, 1), np.float32),
        )
    agent.target.load_state_dict(agent.online.state_dict())
    with torch.no_grad():
        for prm in agent.target.parameters():
            prm.add_(0.5)  # make the two nets differ
        o, h = torch.ones(1, 4), torch.zeros(1, 10, 1)
        a_star = agent.online(o, h).argmax(dim=1, keepdim=True)
        want = -3.0 + 0.9 * agent.target(o, h).gather(1, a_star)[0, 0].item()
        before = agent.online(o, h)[0, 1].item()
    agent.learn_steps = 1  # no target copy in this update
    agent.learn()
    with torch.no_grad():
        after = agent.online(o, h)[0, 1].item()
    assert abs(after - want) < abs(before - want)  # moved towards r + gamma Q_target(s', argmax Q_online)
    assert agent.eps == pytest.approx(0.00025)


def test_short_training_run_replays_through_evaluate():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(1, "comllm", devices=3, servers=2, slots=20))
    res = get_solver("mec-queues", "dqn").fn(PROBLEM, inst, 260, np.random.default_rng(0), eps_increment=0.01)
    record = res.stats["training"]
    # learning at slots 210, 220, ..., 260, one update per agent (three devices)
    assert record["env_steps"] == 260 and record["updates"] == 6 * 3
    episodes = 260 // inst.params.horizon  # whole episodes only
    assert episodes > 1 and len(record["episode_returns"]) == len(record["losses"]) == episodes
    assert all(r <= 0 for r in record["episode_returns"]) and record["losses"][-1] is not None
    assert res.objective == pytest.approx(PROBLEM.evaluate(inst, res.decision).objective[0])


def test_options_are_validated():
    inst = PROBLEM.load_instance(PROBLEM.make_instance(1, "comllm", devices=2, servers=2, slots=5))
    with pytest.raises(InputError, match="option.threads"):  # called directly: the settings model names it
        get_solver("mec-queues", "dqn").fn(PROBLEM, inst, 0, np.random.default_rng(0), threads=0)


@pytest.mark.parametrize(
    ("name", "value"), [("unknown_option", 1), ("threads", 0), ("lr", 2.0), ("eps_increment", 0.0)]
)
def test_dqn_options_are_typed_and_bounded(name, value):
    with pytest.raises(InputError, match=f"option {name}"):
        validate_options(get_solver("mec-queues", "dqn").fn, "dqn", {name: value})


def learns() -> None:
    """The trained agents' greedy policy has a lower mean delay than that of the same run without learning."""
    data = PROBLEM.make_instance(1, "comllm", devices=3, servers=2, slots=20)

    def run():
        return solve(data, "dqn", seed=0, budget=300, eps_increment=0.01)[2]

    trained, frozen = run(), untrained(run)
    # seen: 4.85 slots trained against 5.95 frozen
    assert_beats(trained.objective, frozen.objective, 0.5, "dqn")


def test_dqn_beats_its_untrained_self():
    learns()
