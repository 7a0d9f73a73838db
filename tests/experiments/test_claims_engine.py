"""The claims engine shared by every paper: a verdict needs data, every row names the runs it used, the
per-point judge counts only judged cases, and the status line and the saved table are computed."""

from __future__ import annotations

import json

import pytest

from offloadlab.experiments.analysis import Experiment, Record
from offloadlab.experiments.claims import (
    AGREES,
    DISAGREES,
    FAILS,
    NOT_MEASURED,
    PARTLY,
    Claim,
    about,
    per_point,
    settle,
    status_line,
    verdict,
)
from offloadlab.experiments.claims_table import (
    docs_block,
    load_table,
    merged,
    save_table,
    synced,
    written_status,
)
from offloadlab.papers.sagin_caching.claims import fig4_vanishing


def _record(key: str, label: str = "A", ok: bool = True) -> Record:
    row = {"status": "ok" if ok else "error", "objective": 1.0, "feasible": ok}
    return Record(key, label, label.lower(), {}, {"N": 1}, 0, 0, False, row)


def _exp(name: str, *records: Record) -> Experiment:
    return Experiment(name, "fig", "t", {"scenario": "x"}, list(records))


def test_an_empty_check_is_not_measured():
    assert verdict(0, 0) == NOT_MEASURED
    assert (verdict(2, 2), verdict(0, 2), verdict(1, 2)) == (AGREES, DISAGREES, PARTLY)


def test_a_verdict_without_runs_behind_it_becomes_not_measured():
    exp = _exp("e1", _record("k1"), _record("k2"), _record("k3", ok=False))
    rows = settle(
        [
            Claim("e1", "fig", "stored", "x", AGREES),
            Claim("gone", "fig", "no such experiment", "y", AGREES),
            Claim("-", "fig", "a named source", "z", DISAGREES, ("shipped.json",)),
        ],
        [exp],
    )
    assert rows[0].verdict == AGREES and rows[0].runs == ("k1", "k2")  # the failed run is not used
    assert rows[1].verdict == NOT_MEASURED and rows[1].runs == ()
    assert rows[2].verdict == DISAGREES and rows[2].runs == ("shipped.json",)


def test_the_per_point_judge_counts_judged_points_only():
    def judge(p: int) -> tuple[bool, str] | str:
        return "not stored" if p == 0 else (p > 1, f"value {p}")

    claim = per_point("e", "fig", "claim", [0, 1, 2], judge, lambda p: f"P{p}", marker=FAILS)
    assert claim.verdict == PARTLY
    assert claim.measured == f"P0: not stored; P1: value 1{FAILS}; P2: value 2"
    assert per_point("e", "fig", "claim", [0], judge, str).verdict == NOT_MEASURED
    assert per_point("e", "fig", "claim", [], judge, str).verdict == NOT_MEASURED


def test_about_a_number():
    assert about(0.40, 0.41, 0.1) == AGREES
    assert about(0.25, 0.41, 0.1) == PARTLY
    assert about(-0.2, 0.41, 0.1) == DISAGREES
    assert about(float("nan"), 0.41, 0.1) == NOT_MEASURED


def test_a_figure_without_its_methods_is_not_measured():
    # the vanishing-factor claim over an experiment with no caching policy stored: no case, no verdict
    claim = fig4_vanishing(_exp("sagin_fig4", _record("k1", "cloud (ground core)")))
    assert claim.verdict == NOT_MEASURED


def _claims(*verdicts: str) -> list[Claim]:
    return [Claim("e", "fig", f"claim {i}", "m", v, ("k",)) for i, v in enumerate(verdicts)]


def test_the_status_line_is_counted_from_the_table():
    line = status_line(_claims(AGREES, AGREES, PARTLY, DISAGREES, NOT_MEASURED, DISAGREES))
    assert line == "2 of 6 claims agree, 1 partly, 2 disagree, 1 not measured"
    assert status_line(_claims(AGREES)) == "1 of 1 claims agree"
    assert status_line([]) == "no claims table computed yet"


def test_the_saved_table_merges_by_figure_and_claim(tmp_path):
    path = tmp_path / "claims.json"
    first = _claims(AGREES, DISAGREES)
    save_table(path, "x", first, "store-1")
    newer = [Claim("e", "fig", "claim 1", "m2", AGREES, ("k2",)), Claim("e", "fig2", "new", "m", PARTLY, ("k",))]
    rows = save_table(path, "x", newer, "store-2")
    assert [(c.paper, c.verdict) for c in rows] == [("claim 0", AGREES), ("claim 1", AGREES), ("new", PARTLY)]
    assert load_table(path) == rows == merged(first, newer)
    data = json.loads(path.read_text())
    assert data["status"] == status_line(rows) and data["last_store"] == "store-2"
    bad = dict(data, claims=[dict(data["claims"][0], verdict="holds")])
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="unknown verdict"):
        load_table(path)


def test_a_docs_block_is_regenerated_from_its_claims_file(tmp_path):
    save_table(tmp_path / "claims.json", "x", _claims(AGREES, PARTLY), "s")
    fresh = docs_block("claims.json", load_table(tmp_path / "claims.json"))
    page = f"# Paper\n\nintro\n\n{fresh}\n\nmore\n"
    assert synced(page, tmp_path) == page
    assert written_status(page) == [("claims.json", "1 of 2 claims agree, 1 partly")]
    save_table(tmp_path / "claims.json", "x", _claims(DISAGREES, PARTLY), "s")  # the table changed
    assert synced(page, tmp_path) != page
    assert written_status(synced(page, tmp_path)) == [("claims.json", "0 of 2 claims agree, 1 partly, 1 disagree")]
