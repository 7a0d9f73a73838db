"""``offloadlab solvers SCENARIO``: every registered solver's options, with type, bounds, default and meaning,
read from the options model that validates them."""

from __future__ import annotations

import re

import pytest

from offloadlab.core.options import options_model
from offloadlab.core.registry import scenarios, solvers_for
from offloadlab.llm.options import OPTION_NAMES, LLMOptions
from offloadlab.options_listing import UNDOCUMENTED, bounds_text, default_text, option_rows
from tests.test_cli import run_cli

SOLVERS = sorted({(sc, name) for sc in scenarios() for name in solvers_for(sc)})


@pytest.mark.parametrize("scenario, solver", SOLVERS, ids=[f"{sc}:{n}" for sc, n in SOLVERS])
def test_the_listing_shows_every_option_of_every_solver(scenario, solver, capsys, monkeypatch):
    code, out, err = run_cli(["solvers", scenario, "--solver", solver], capsys, monkeypatch)
    assert code == 0, err
    fields = options_model(solvers_for(scenario)[solver].fn).model_fields
    lines = out.splitlines()
    assert lines[0].startswith(f"{solver} (")
    listed = {line.split()[0] for line in lines[1:] if line.startswith("  --")}
    assert listed == {f"--{name.replace('_', '-')}" for name in fields}
    for name, info in fields.items():
        line = next(x for x in lines if x.startswith(f"  --{name.replace('_', '-')} "))
        # type, bounds and default as the model declares them, in that order, then the meaning
        assert default_text(info) in line and bounds_text(info) in line
        assert line.rstrip().endswith((info.description or UNDOCUMENTED).splitlines()[0])


def test_llm_options_carry_type_bounds_and_meaning_in_every_llm_solver():
    llm_solvers = [(sc, n) for sc, n in SOLVERS if "llm_backend" in options_model(solvers_for(sc)[n].fn).model_fields]
    assert {"llm", "llm-icl"} <= {n for _, n in llm_solvers}
    for sc, n in llm_solvers:
        rows = {r.flag: r for r in option_rows(solvers_for(sc)[n].fn)}
        for opt, name in OPTION_NAMES.items():
            row = rows[f"--{opt.replace('_', '-')}"]
            assert row.meaning == LLMOptions.model_fields[name].description
    timeout = {r.flag: r for r in option_rows(solvers_for("satellite-mec")["llm"].fn)}["--llm-timeout"]
    assert (timeout.type, timeout.bounds, timeout.default) == ("float", "(0, 86400]", "120.0")


def test_the_llm_optimizer_documents_all_its_options():
    rows = option_rows(solvers_for("satellite-mec")["llm"].fn)
    assert all(r.meaning != UNDOCUMENTED for r in rows)
    pool = next(r for r in rows if r.flag == "--pool-start")
    assert (pool.type, pool.default) == ("default|paper", '"default"')


def test_bounds_written_by_the_model_are_the_ones_enforced():
    from offloadlab.core.errors import InputError
    from offloadlab.core.run import check_options

    row = next(r for r in option_rows(solvers_for("satellite-mec")["llm"].fn) if r.flag == "--iterations")
    low, high = map(int, re.findall(r"\d+", row.bounds))
    check_options("satellite-mec", "llm", {"iterations": high})
    with pytest.raises(InputError, match="option iterations"):
        check_options("satellite-mec", "llm", {"iterations": high + 1})
    with pytest.raises(InputError, match="option iterations"):
        check_options("satellite-mec", "llm", {"iterations": low - 1})


def test_a_whole_scenario_is_listed_and_an_unknown_solver_is_one_line(capsys, monkeypatch):
    code, out, _ = run_cli(["solvers", "satellite-mec"], capsys, monkeypatch)
    assert code == 0 and {n for n in solvers_for("satellite-mec")} == {
        line.split(" (")[0] for line in out.splitlines() if line and not line.startswith(" ")
    }
    code, _, err = run_cli(["solvers", "satellite-mec", "--solver", "nope"], capsys, monkeypatch)
    assert code == 2 and len(err.strip().splitlines()) == 1
