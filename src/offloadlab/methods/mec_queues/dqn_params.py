"""Settings of Tang & Wong's DQN (``dqn.py``), documented and bounded in one model: the values of their
RL_brain.py and train.py unless stated (torch-free, so the solver registers without importing torch)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from offloadlab.rl.common import BatchSize, Gamma, HyperParams, LearningRate, Threads
from offloadlab.scenarios.mec_queues.params import make_params

EpsIncrement = Annotated[float, Field(gt=0, le=1, description="rise of the greedy probability per learning step")]
Slots = Annotated[int, Field(ge=1, le=1_000_000)]
# Training slots at which the convergence rule (experiments.convergence) rates the comllm preset's learning curve
# converged and the closed-loop delay is within a few percent of greedy-oracle's (measured: docs/mec-queues.md,
# "DQN at its plateau"); every spec that compares against dqn trains it for this many slots (tested).
PLATEAU_SLOTS = 4400
COMLLM_EPISODE_SLOTS = make_params("comllm").horizon  # arrival + drain slots of one episode


class DqnParams(HyperParams):
    """One dueling double DQN with an LSTM over server loads per device."""

    lr: LearningRate = Field(default=0.01, description="RMSProp learning rate (decay 0.9, eps 1e-10: TF1's)")
    gamma: Gamma = Field(default=0.9, description="reward decay")
    memory: Slots = Field(default=500, description="replay memory (transitions)")
    batch: BatchSize = Field(default=32, description="replay minibatch")
    replace_every: Slots = Field(default=200, description="learning steps between target-network copies")
    eps_max: float = Field(default=0.99, gt=0, le=1, description="largest probability of the greedy action")
    eps_increment: EpsIncrement = Field(default=0.00025, description="rise of the greedy probability per learning step")
    learn_start: Slots = Field(default=200, description="slots before the first learning step")
    learn_every: Slots = Field(default=10, description="slots between learning steps")
    hidden: int = Field(default=20, ge=1, le=4096, description="width of the two ReLU layers")
    lstm: int = Field(default=20, ge=1, le=4096, description="LSTM units over the last 10 load vectors")
    episodes: int = Field(
        default=PLATEAU_SLOTS // COMLLM_EPISODE_SLOTS,
        ge=1,
        le=100_000,
        description="training episodes when no budget is given (default: the comllm preset's plateau budget)",
    )
    threads: Threads = Field(default=1, description="torch threads: one is as fast for these small networks")


DQN = DqnParams()
