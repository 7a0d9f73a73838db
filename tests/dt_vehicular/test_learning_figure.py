"""The learning figure draws each stored training record: the returns, the record's cost in the legend and
the losses beside the curve."""

from __future__ import annotations

import json

from offloadlab.core.run import solve
from offloadlab.experiments.analysis import Experiment, Record
from offloadlab.papers.dt_vehicular.figures import draw_learning
from offloadlab.scenarios.dt_vehicular.problem import PROBLEM


def test_learning_figure_draws_the_stored_training_record():
    data = PROBLEM.make_instance(0, "default", N=2, K=1, slots=5)
    res = solve(data, "marl", 0, 40, hidden=[8], batch_size=4, progress=False)[2]
    record = res.stats["training"]
    assert len(record["episode_returns"]) == 8 and record["losses"][-1] is not None
    row = {"status": "ok", "objective": res.objective, "stats_json": json.dumps(res.stats, default=float)}
    rec = Record("marl-0", "marl", "marl", {}, {"N": 2}, 0, 0, False, row)
    fig = draw_learning(Experiment("learning", "learning", "t", {"scenario": "dt-vehicular"}, [rec]))
    ax, twin = fig.axes
    returns = ax.get_lines()[0].get_ydata()
    assert list(returns) == record["episode_returns"] and ax.get_lines()[0].get_xdata()[-1] == 40
    assert "40 env steps" in ax.get_legend().get_texts()[0].get_text()
    losses = twin.get_lines()[0].get_ydata()
    assert [x for x in losses if x == x] == [x for x in record["losses"] if x is not None]
