"""Small hand-built episodes for the sagin-caching tests."""

from __future__ import annotations

import numpy as np

from offloadlab.scenarios.sagin_caching.episode import Episode
from offloadlab.scenarios.sagin_caching.params import preset_params


def tiny_episode(requests, memory_models: int = 10, model_of=None, **overrides) -> Episode:
    """An episode with given requests [T, N, I]; every service runs a GPT3-174B-type model (8k window) unless
    ``model_of`` maps some to type 0 (LLaMA-65B, 2k); GPU memory holds ``memory_models`` GPT3-type models.
    With N = 1 an idle second BS is added (the market needs two BSs), so BS 0 is the one under test."""
    R = np.asarray(requests, dtype=float)
    if R.shape[1] == 1:
        R = np.concatenate([R, np.zeros_like(R)], axis=1)
    T, N, I = R.shape
    memory = (memory_models + 0.5) * 348.0  # room for memory_models GPT3-type models, not one more
    gpus = int(np.ceil(memory / 80.0))
    params = preset_params(
        "default", T=T, num_bs=N, num_services=I, num_models=2, num_gpus=gpus, gpu_memory_gb=memory / gpus, **overrides
    )
    mapping = np.ones(I, dtype=int) if model_of is None else np.asarray(model_of)
    return Episode(
        params,
        0,
        mapping,
        np.full(I, 1.2e9),
        np.full(I, 0.777),
        np.full(I, 0.5),
        np.full(N, 3e6),
        R,
        np.zeros(T, dtype=int),
        np.ones((T, N + 1)),
        np.full(N, 1e7),
    )
