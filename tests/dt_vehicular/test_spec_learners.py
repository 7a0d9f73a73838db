"""The figure specs reload the actors that the training spec saves, so their learners' options must agree:
a checkpoint trained with other settings is refused at run time, after the training spec has run."""

from __future__ import annotations

from pathlib import Path

import pytest

from offloadlab.experiments.spec import load_spec
from offloadlab.methods.dt_vehicular.hyper import MaddpgParams

SPECS = Path(__file__).parents[2] / "src" / "offloadlab" / "papers" / "dt_vehicular" / "specs"
TRAINED = ("dt_vehicular_figs3_6.yaml", "dt_vehicular_bias_nominal.yaml")


def learners(spec: str) -> dict[str, dict]:
    """Each learner of a spec by solver name, with its options (the progress bar aside)."""
    entries = load_spec(SPECS / spec, check=False).solvers
    return {e.name: {k: v for k, v in e.options.items() if k != "progress"} for e in entries}


@pytest.mark.parametrize("spec", TRAINED)
def test_figure_specs_load_the_learners_the_training_spec_saves(spec):
    trained, used = learners("dt_vehicular_training.yaml"), learners(spec)
    for method in ("marl", "sarl"):
        assert used[method] == trained[method]
    if "llm-icl" in used:  # llm-icl reloads MARL's actors: MARL's settings, same checkpoint
        own = {k: v for k, v in used["llm-icl"].items() if k in MaddpgParams.model_fields or k == "checkpoint"}
        assert own == trained["marl"]
