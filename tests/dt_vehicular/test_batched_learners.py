"""The stacked learners are N independent MADDPG / DDPG agents: one batched update equals a loop over agents."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from offloadlab.methods.dt_vehicular.hyper import MaddpgParams, SarlParams
from offloadlab.methods.dt_vehicular.learners import ActorCritics, ReplayBuffer, mlp

N, OBS, ACT = 3, 5, 4


def per_agent(stack, hidden, tanh_last, squash, n_in, n_out):
    """The stacked networks as a list of separate ``nn.Sequential`` (the checkpoint format)."""
    nets = [mlp(n_in, n_out, hidden, tanh_last, squash) for _ in range(N)]
    for net, sd in zip(nets, stack.state_dicts()):
        net.load_state_dict(sd)
    return nets


def loop_update(actors, critics, t_actors, t_critics, a_opt, c_opt, hp, o, a, r, o2):
    """The textbook update: for each agent, its critic step, then its actor step; then soft updates."""

    def critic_in(i, obs, act):
        if hp.centralised:
            return torch.cat([obs.reshape(len(obs), -1), act.reshape(len(act), -1)], dim=1)
        return torch.cat([obs[:, i], act[:, i]], dim=1)

    with torch.no_grad():
        a2 = torch.stack([t(o2[:, j]) for j, t in enumerate(t_actors)], dim=1)
    for i in range(N):
        with torch.no_grad():
            y = r[:, None] + hp.gamma * t_critics[i](critic_in(i, o2, a2))
        loss = F.mse_loss(critics[i](critic_in(i, o, a)), y)
        c_opt[i].zero_grad()
        loss.backward()
        c_opt[i].step()
        joint = a.clone()
        joint[:, i] = actors[i](o[:, i])
        a_opt[i].zero_grad()
        (-critics[i](critic_in(i, o, joint)).mean()).backward()
        a_opt[i].step()
    for net, target in zip(actors + critics, t_actors + t_critics):
        for p, tp in zip(net.parameters(), target.parameters()):
            tp.data.mul_(1 - hp.tau).add_(hp.tau * p.data)


@pytest.mark.parametrize(
    "hp", [MaddpgParams(hidden=[16, 12, 8]), SarlParams(hidden=[16, 12, 8])], ids=["maddpg", "sarl"]
)
def test_batched_update_equals_a_loop_over_agents(hp):
    torch.manual_seed(0)
    agents = ActorCritics(N, OBS, ACT, hp)
    hidden = tuple(hp.hidden)
    c_in = N * (OBS + ACT) if hp.centralised else OBS + ACT
    actors = per_agent(agents.actors, hidden, hp.tanh_last, True, OBS, ACT)
    critics = per_agent(agents.critics, hidden, hp.tanh_last, False, c_in, 1)
    t_actors, t_critics = copy.deepcopy(actors), copy.deepcopy(critics)
    a_opt = [torch.optim.Adam(m.parameters(), lr=hp.lr_actor) for m in actors]
    c_opt = [torch.optim.Adam(m.parameters(), lr=hp.lr_critic) for m in critics]
    rng = np.random.default_rng(1)
    buffer = ReplayBuffer(50, N, OBS, ACT)
    for _ in range(50):
        obs, nxt = rng.normal(size=(2, N, OBS)).astype(np.float32)
        buffer.add(obs, rng.uniform(size=(N, ACT)).astype(np.float32), float(rng.normal()), nxt)
    for _ in range(5):
        batch = buffer.sample(rng, 16)
        assert [tuple(x.shape) for x in batch] == [(16, N, OBS), (16, N, ACT), (16,), (16, N, OBS)]
        agents.update(*batch)
        loop_update(actors, critics, t_actors, t_critics, a_opt, c_opt, hp, *batch)
    for stack, nets in [
        (agents.actors, actors),
        (agents.critics, critics),
        (agents.target_actors, t_actors),
        (agents.target_critics, t_critics),
    ]:
        for sd, net in zip(stack.state_dicts(), nets):
            for key, value in net.state_dict().items():
                assert torch.allclose(sd[key], value, atol=1e-6), key
    obs = rng.normal(size=(N, OBS)).astype(np.float32)
    with torch.no_grad():
        expected = np.stack([actors[i](torch.from_numpy(obs[i])).numpy() for i in range(N)])
    assert np.allclose(agents.act(obs), expected, atol=1e-6)
