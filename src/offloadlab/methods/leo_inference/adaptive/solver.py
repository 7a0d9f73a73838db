"""The adaptive modelling as a registered run, so that a reproduction computes Tables II-III and Fig. 6 itself.

Solver ``adaptive`` (scenario leo-inference): trains one digits supernet per model family (``epochs``),
solves eq. 32 on every processor of Tables II-III (``search_budget`` candidate architectures each), retrains
the winners stand-alone (``retrain_epochs``; 0 scores them with the supernet's shared weights) and records
Fig. 6's loss curves of plain gradient descent and NAG (``fig6_steps``). The offloading instance is not used
(every task stays on board): the run's ``details`` carry ``rows`` (one per processor and family) and
``fig6`` (the curves), which the paper's claims read.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from offloadlab.core.registry import Smoke, register_solver
from offloadlab.core.result import Result, Tracker
from offloadlab.scenarios.leo_inference.instance import SCENARIO_ID, LeoInstance
from offloadlab.solvers.common import finish

Epochs = Annotated[int, Field(ge=0, le=1000, description="training epochs")]


@register_solver(
    "adaptive",
    SCENARIO_ID,
    "adaptive modelling (Sec. VI, IX-B): supernets, eq. 32 per processor, Fig. 6 GD vs NAG; no offloading",
    budget_unit="none",
    smoke=Smoke(options={"epochs": 1, "search_budget": 4, "fig6_steps": 3, "retrain_epochs": 0}, slow=True),
)
def solve_adaptive(
    problem: Any,
    instance: LeoInstance,
    budget: int | None,
    rng: np.random.Generator,
    epochs: Annotated[int, Field(ge=1, le=1000, description="supernet training epochs")] = 8,
    search_budget: Annotated[int, Field(ge=1, le=10_000, description="architectures scored per processor")] = 40,
    fig6_steps: Annotated[int, Field(ge=1, le=10_000, description="iterations of Fig. 6's curves")] = 60,
    retrain_epochs: Epochs = 3,
    seed: Annotated[int, Field(ge=0, le=2**31 - 1, description="training and search seed")] = 0,
) -> Result:
    """Tables II-III and Fig. 6 from one training run (torch with one thread, restored afterwards)."""
    import torch

    from offloadlab.methods.leo_inference.adaptive.knowledge_base import shipped_host_kb
    from offloadlab.methods.leo_inference.adaptive.report import fig6_curves, standalone_trainer, train_family_supernets
    from offloadlab.methods.leo_inference.adaptive.supernet import load_digits_split
    from offloadlab.methods.leo_inference.adaptive.tables import reproduce_tables

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = load_digits_split(seed)
        accuracy, training = train_family_supernets(seed, epochs=epochs, data=data)
        retrain = standalone_trainer(data, retrain_epochs, seed) if retrain_epochs > 0 else None
        rows = reproduce_tables(shipped_host_kb(), accuracy, seed=seed, budget=search_budget, retrain=retrain)
        curves = fig6_curves(steps=fig6_steps, seed=seed, data=data)
    finally:
        torch.set_num_threads(threads)
    tracker = Tracker(None)
    decision = problem.local_decision(instance)
    extra = {
        "rows": [asdict(r) for r in rows],
        "fig6": {k: np.asarray(v).tolist() for k, v in curves.items()},
        "training": training,
    }
    res = finish(problem, instance, decision, tracker, extra_details=extra, supernet_epochs=epochs)
    tracker.record(1, res.objective)
    res.history = tracker.history
    return res
