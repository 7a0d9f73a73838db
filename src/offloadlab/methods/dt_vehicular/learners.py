"""One actor and one critic per vehicle, trained off-policy on the PettingZoo env: the engine of MARL and SARL.

A short readable torch implementation rather than a library: no maintained package offers MADDPG for
continuous PettingZoo parallel envs on current torch (SB3 is single-agent; AgileRL and TorchRL bring
heavy dependency sets for one algorithm). With ``centralised`` critics (MADDPG) critic i sees every
vehicle's observation and action; without (SARL: independent single-agent DDPG learners), critic i sees
vehicle i's observation and action only. Target networks, soft updates and Gaussian exploration
noise decaying linearly to a tenth; the actors end in a sigmoid per output (the server scales the
requested alphas to its capacity). The paper's actor softmax over all 2K outputs would force
sum(omega) + sum(alpha) = 1 per vehicle and forbid offloading every task, so it is not used.

Speed: the N actors (and the N critics) are stacked into one network evaluated with one batched matmul
per layer, the replay buffer is sampled as tensors, and one update steps every agent at once; agent i's
networks share no weight with agent j's, so this computes the same updates as a loop over agents
(``tests/dt_vehicular/test_batched_learners.py``; ``benchmarks/bench_dt_training.py`` times it).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np

from offloadlab.core.resources import check_learner, mlp_parameters
from offloadlab.methods.dt_vehicular.hyper import LearnerParams
from offloadlab.methods.dt_vehicular.results import Policy
from offloadlab.rl.common import check_checkpoint, load_checkpoint, training_progress
from offloadlab.rl.record import TrainingRecord
from offloadlab.scenarios.dt_vehicular.env import OBSERVERS, DtVehicularParallelEnv, split_action
from offloadlab.scenarios.dt_vehicular.model import SlotState
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams


def mlp(n_in: int, n_out: int, hidden: tuple[int, ...], tanh_last: bool, squash: bool) -> Any:
    """ReLU hidden layers (the last one tanh if ``tanh_last``), a linear output (sigmoid-squashed for actors)."""
    import torch.nn as nn

    acts = [nn.ReLU] * (len(hidden) - 1) + [nn.Tanh if tanh_last else nn.ReLU]
    layers: list[Any] = []
    width = n_in
    for h, act in zip(hidden, acts):
        layers += [nn.Linear(width, h), act()]
        width = h
    layers.append(nn.Linear(width, n_out))
    if squash:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def stacked(nets: list[Any]) -> Any:
    """G MLPs of one shape (``mlp``) as one module evaluated with one batched matmul per layer."""
    import torch
    import torch.nn as nn

    class StackedMLP(nn.Module):
        """G independent MLPs: weights [G, in, out], biases [G, 1, out]; input [G, B, in] -> [G, B, out].

        Agent g's layer is exactly its own ``nn.Linear`` (same initial weights, same gradients): the G
        networks share nothing but the tensor that holds them, so one step on the summed losses is G
        independent steps."""

        def __init__(self) -> None:
            super().__init__()
            first = nets[0]
            self.linear_at = [i for i, m in enumerate(first) if isinstance(m, nn.Linear)]
            self.in_features = first[0].in_features
            self.weights = nn.ParameterList(
                torch.stack([net[i].weight.detach().T for net in nets]).contiguous() for i in self.linear_at
            )
            self.biases = nn.ParameterList(
                torch.stack([net[i].bias.detach()[None] for net in nets]) for i in self.linear_at
            )
            after = [type(first[i + 1]) if i + 1 < len(first) else None for i in self.linear_at]
            funcs = {nn.ReLU: torch.relu, nn.Tanh: torch.tanh, nn.Sigmoid: torch.sigmoid, None: None}
            self.funcs = [funcs[a] for a in after]

        def forward(self, x: Any, frozen: bool = False) -> Any:
            """Every network on its own slice of ``x``; ``frozen``: no gradient reaches the weights."""
            for w, b, f in zip(self.weights, self.biases, self.funcs):
                x = torch.baddbmm(b.detach(), x, w.detach()) if frozen else torch.baddbmm(b, x, w)
                if f is not None:
                    x = f(x)
            return x

        def state_dicts(self) -> list[dict[str, Any]]:
            """One ``nn.Sequential`` state dict per network (the checkpoint format)."""
            return [
                {
                    **{f"{i}.weight": w.detach()[g].T.clone() for i, w in zip(self.linear_at, self.weights)},
                    **{f"{i}.bias": b.detach()[g, 0].clone() for i, b in zip(self.linear_at, self.biases)},
                }
                for g in range(len(self.weights[0]))
            ]

        def load_state_dicts(self, sds: list[dict[str, Any]]) -> None:
            """Inverse of ``state_dicts`` (raises on a missing key or a wrong shape)."""
            with torch.no_grad():
                for k, i in enumerate(self.linear_at):
                    self.weights[k].copy_(torch.stack([sd[f"{i}.weight"].T for sd in sds]))
                    self.biases[k].copy_(torch.stack([sd[f"{i}.bias"][None] for sd in sds]))

    return StackedMLP()


class ReplayBuffer:
    """Uniform replay of joint transitions (obs [N, o], actions [N, a], shared reward, next obs) in
    preallocated tensors: stored through numpy views of them, sampled as tensors without conversion."""

    def __init__(self, capacity: int, n: int, obs_dim: int, act_dim: int):
        import torch

        self.obs = torch.zeros((capacity, n, obs_dim))
        self.act = torch.zeros((capacity, n, act_dim))
        self.rew = torch.zeros(capacity)
        self.next = torch.zeros((capacity, n, obs_dim))
        self.views = [t.numpy() for t in (self.obs, self.act, self.rew, self.next)]  # same memory
        self.size, self.pos = 0, 0

    def add(self, obs: np.ndarray, act: np.ndarray, rew: float, nxt: np.ndarray) -> None:
        """Store one transition (overwriting the oldest when full)."""
        i = self.pos
        for view, x in zip(self.views, (obs, act, rew, nxt)):
            view[i] = x
        self.pos = (i + 1) % len(self.rew)
        self.size = min(self.size + 1, len(self.rew))

    def sample(self, rng: np.random.Generator, batch: int) -> tuple[Any, ...]:
        """A uniform batch (indices drawn from ``rng``): obs [B, N, o], act [B, N, a], rew [B], next obs."""
        import torch

        idx = torch.from_numpy(rng.integers(self.size, size=batch))
        return self.obs[idx], self.act[idx], self.rew[idx], self.next[idx]


def check_learners(n: int, obs_dim: int, act_dim: int, hp: LearnerParams, capacity: int = 0) -> None:
    """Refuse, before anything is allocated, N actor-critics of ``hp.hidden`` with a minibatch of
    ``hp.batch_size`` and a replay buffer of ``capacity`` joint transitions beyond the memory limit."""
    critic_in = n * (obs_dim + act_dim) if hp.centralised else obs_dim + act_dim
    parameters = n * (mlp_parameters(obs_dim, hp.hidden, act_dim) + mlp_parameters(critic_in, hp.hidden, 1))
    # an update passes a minibatch through every critic twice, each input [N, B, critic_in] (the joint
    # observation and action when centralised) and its hidden layers
    activations = 2 * hp.batch_size * n * (critic_in + sum(hp.hidden))
    buffer_floats = capacity * (n * (2 * obs_dim + act_dim) + 1)
    check_learner("options hidden, batch_size, buffer_size", parameters, activations, buffer_floats)


class ActorCritics:
    """N actors and N critics (centralised or local) with their target copies, each group stacked into one
    batched network (``stacked``) and one Adam optimiser: Adam is elementwise, so this is N optimisers."""

    def __init__(self, n: int, obs_dim: int, act_dim: int, hp: LearnerParams):
        import torch

        check_learners(n, obs_dim, act_dim, hp)
        self.n, self.obs_dim, self.act_dim, self.hp = n, obs_dim, act_dim, hp
        hidden, tanh_last = tuple(hp.hidden), hp.tanh_last
        self.centralised = hp.centralised
        critic_in = n * (obs_dim + act_dim) if self.centralised else obs_dim + act_dim
        # built agent by agent as separate networks, so the initial weights follow torch's seed as before
        self.actors = stacked([mlp(obs_dim, act_dim, hidden, tanh_last, squash=True) for _ in range(n)])
        self.critics = stacked([mlp(critic_in, 1, hidden, tanh_last, squash=False) for _ in range(n)])
        self.target_actors = copy.deepcopy(self.actors)
        self.target_critics = copy.deepcopy(self.critics)
        self.actor_opt = torch.optim.Adam(self.actors.parameters(), lr=hp.lr_actor, fused=True)
        self.critic_opt = torch.optim.Adam(self.critics.parameters(), lr=hp.lr_critic, fused=True)
        self.own = torch.eye(n, dtype=torch.bool)[:, None, :, None]  # [i, 1, j, 1]: j is agent i itself
        self.critic_updates = 0

    def anneal(self, progress: float) -> None:
        """Set both learning rates for training ``progress`` in [0, 1]: linear from the initial rates down to
        ``lr_floor`` times them at ``lr_decay`` of the budget, constant after."""
        scale = 1 - (1 - self.hp.lr_floor) * min(max(progress / self.hp.lr_decay, 0.0), 1.0)
        for opt, lr in ((self.actor_opt, self.hp.lr_actor), (self.critic_opt, self.hp.lr_critic)):
            for group in opt.param_groups:
                group["lr"] = lr * scale

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic joint action [N, act_dim] for observations [N, obs_dim]."""
        import torch

        with torch.no_grad():
            return self.actors(torch.from_numpy(np.asarray(obs, dtype=np.float32))[:, None])[:, 0].numpy()

    def _critic_input(self, o: Any, a: Any, own: Any = None) -> Any:
        """Every critic's input [N, B, in] from observations [B, N, o] and actions [B, N, a], with critic i
        seeing ``own[i]`` [B, a] as agent i's action if given: every observation and action if
        centralised, else agent i's own."""
        import torch

        B, n = o.shape[0], self.n
        if not self.centralised:
            return torch.cat([o.transpose(0, 1), a.transpose(0, 1) if own is None else own], dim=2)
        if own is None:
            joint = a.reshape(B, -1).expand(n, B, -1)
        else:  # critic i: agent i's action from ``own``, the others' from ``a``
            joint = torch.where(self.own, own[:, :, None], a[None]).reshape(n, B, -1)
        return torch.cat([o.reshape(B, -1).expand(n, B, -1), joint], dim=2)

    def update(self, o: Any, a: Any, r: Any, o2: Any) -> float:
        """One gradient step of every critic and actor on a batch (``ReplayBuffer.sample``) as N independent
        updates: every critic first, then every actor against its updated critic (agent i's networks depend
        on no other agent's, so this is the order of a loop over agents); the actors and the targets move on
        every ``policy_delay``-th call only. Returns the mean critic loss."""
        import torch

        hp = self.hp
        with torch.no_grad():
            a2 = self.target_actors(o2.transpose(0, 1)).transpose(0, 1)  # [B, N, a]
            y = r[None, :, None] + hp.gamma * self.target_critics(self._critic_input(o2, a2))
        # the sum over agents of each one's mean squared error: agent i's gradient is that of its own loss
        losses = ((self.critics(self._critic_input(o, a)) - y) ** 2).mean(dim=(1, 2))
        self.critic_opt.zero_grad()
        losses.sum().backward()
        self.critic_opt.step()
        self.critic_updates += 1
        if self.critic_updates % hp.policy_delay:
            return float(losses.detach().mean())
        own = self.actors(o.transpose(0, 1))  # [N, B, a]
        q = self.critics(self._critic_input(o, a, own), frozen=True)  # the critics only pass the gradient on
        self.actor_opt.zero_grad()
        (-q.mean(dim=(1, 2)).sum()).backward()
        self.actor_opt.step()
        with torch.no_grad():  # soft updates: target <- (1 - tau) target + tau net
            nets = [*self.actors.parameters(), *self.critics.parameters()]
            targets = [*self.target_actors.parameters(), *self.target_critics.parameters()]
            torch._foreach_mul_(targets, 1 - hp.tau)
            torch._foreach_add_(targets, nets, alpha=hp.tau)
        return float(losses.detach().mean())

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the actors (all a policy needs; about 160 kB per vehicle with the default widths) and the
        matching metadata to one file."""
        import torch

        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"meta": meta, "actors": self.actors.state_dicts()}, path)

    def load(self, path: Path, expected: dict[str, Any]) -> None:
        """Restore the actors from ``save`` after checking the metadata."""
        import torch

        what = f"a {expected.get('method', 'learner')} checkpoint (a torch file written by this solver)"

        def read(file: Path) -> None:
            blob = torch.load(file, weights_only=True)
            if not isinstance(blob, dict) or "actors" not in blob:
                raise ValueError("no actors in it")
            check_checkpoint(file, what, blob.get("meta", {}), expected)
            self.actors.load_state_dicts(blob["actors"])

        load_checkpoint(path, what, read)
        self.target_actors = copy.deepcopy(self.actors)


NOISE_FLOOR = 0.1  # the exploration std ends at a tenth of ``noise``


def exploration_std(hp: LearnerParams, done: int, steps: int) -> float:
    """The exploration std after ``done`` of ``steps`` training slots: ``noise`` falling linearly to
    ``NOISE_FLOOR`` times it over the first ``noise_decay`` share of the budget, constant after."""
    return hp.noise * max(NOISE_FLOOR, 1 - done / (hp.noise_decay * steps))


def train(
    params: DtVehicularParams, rng: np.random.Generator, steps: int, hp: LearnerParams, what: str, progress: bool
) -> tuple[ActorCritics, TrainingRecord]:
    """Train on fresh seeded episodes for ``steps`` slots; returns the agents and the training record
    (episode returns are sums of the shared reward; losses the mean critic loss per episode)."""
    env = DtVehicularParallelEnv(params, observation=hp.observation)
    N, act_dim = params.N, 2 * params.K
    obs_dim = env.observation_space("vehicle_0").shape[0]
    check_learners(N, obs_dim, act_dim, hp, min(steps, hp.buffer_size))
    agents = ActorCritics(N, obs_dim, act_dim, hp)
    buffer = ReplayBuffer(min(steps, hp.buffer_size), N, obs_dim, act_dim)
    warmup = min(steps // 5, hp.warmup_batches * hp.batch_size)
    record = TrainingRecord()
    with training_progress(f"{what} N={N}", steps, progress) as show:
        while record.env_steps < steps:
            obs_d, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
            obs = np.stack(list(obs_d.values()))
            while env.agents and record.env_steps < steps:
                done = record.env_steps
                if done < warmup:
                    act = rng.uniform(size=(N, act_dim)).astype(np.float32)
                else:
                    sigma = exploration_std(hp, done, steps)
                    act = np.clip(agents.act(obs) + rng.normal(0, sigma, (N, act_dim)), 0, 1).astype(np.float32)
                nxt_d, rew, _, _, _ = env.step({a: act[i] for i, a in enumerate(env.possible_agents)})
                nxt = np.stack(list(nxt_d.values()))
                r = float(next(iter(rew.values())))
                buffer.add(obs, act, r, nxt)
                obs = nxt
                record.step(r)
                if record.env_steps >= warmup and buffer.size >= hp.batch_size:
                    agents.anneal(record.env_steps / steps)
                    record.update(agents.update(*buffer.sample(rng, hp.batch_size)))
            if not env.agents:  # an episode cut short by the budget is not recorded
                record.end_episode()
                show(
                    record.env_steps, f"episode {len(record.episode_returns)}: return {record.episode_returns[-1]:.4g}"
                )
    return agents, record


def actor_policy(agents: ActorCritics, K: int) -> Policy:
    """The trained actors as a per-slot policy (no exploration noise), each on its own observation."""
    observe = OBSERVERS[agents.hp.observation]

    def policy(state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return split_action(agents.act(observe(state)), K)

    return policy
