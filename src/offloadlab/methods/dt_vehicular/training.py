"""What dt-vehicular's learning solvers share beyond rl.common: checkpoint names and metadata, ICL settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from offloadlab.core.config import StrictModel
from offloadlab.rl.common import checkpoint_file
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams


def checkpoint_path(template: str | None, params: DtVehicularParams, seed: int) -> Path | None:
    """The checkpoint file; ``template`` may name instance fields, e.g. ``ckpt/marl_N{N}_df{delta_f}.pt``,
    so that one sweep keeps one policy per configuration."""
    return checkpoint_file(template, {**params.model_dump(), "seed": seed})


def checkpoint_meta(params: DtVehicularParams, method: str, **extra: Any) -> dict[str, Any]:
    """What a checkpoint must match to be reused: method, N, K and the network settings."""
    return {"method": method, "N": params.N, "K": params.K, **extra}


class IclSettings(StrictModel):
    """Numeric options of llm-icl, validated with errors that name the option."""

    neighbours: int = Field(3, ge=1, le=100, description="cases shown per prompt")
    case_episodes: int = Field(2, ge=1, le=1000, description="MARL episodes collected into the case set")
    temperature: float = Field(0.0, ge=0.0, le=2.0)


ICL = IclSettings()
