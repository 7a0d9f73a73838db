"""Spec validation: every defect fails before any run, with one line naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from offloadlab.core.errors import InputError
from offloadlab.experiments.plan import expand
from offloadlab.experiments.spec import load_spec
from tests.experiments.conftest import tiny_spec


def error_of(write_spec, data) -> InputError:
    with pytest.raises(InputError) as info:
        load_spec(write_spec(data))
    return info.value


def test_tiny_spec_expands_to_every_combination(write_spec):
    spec = load_spec(write_spec(tiny_spec(repetitions=2)))
    runs = expand(spec)
    assert len(runs) == 2 * 2 * 2 * 2  # seeds x N x solvers x repetitions
    assert len({r.key for r in runs}) == len(runs)
    assert [r.instance_seed for r in runs[:8]] == [0] * 8  # seeds outermost
    assert {r.budget for r in runs} == {64}


def test_run_key_ignores_label_and_depends_on_what_changes_the_result(write_spec):
    a = expand(load_spec(write_spec(tiny_spec())))
    b = expand(load_spec(write_spec(tiny_spec(solvers=[{"name": "local", "label": "all local"},
                                                       {"name": "random", "label": "RC"}]))))
    assert [r.key for r in a] == [r.key for r in b]
    c = expand(load_spec(write_spec(tiny_spec(budget=65))))
    assert {r.key for r in a if r.solver == "random"}.isdisjoint(r.key for r in c)


@pytest.mark.parametrize("change, field, words", [
    ({"solvers": [{"name": "no_such_solver"}]}, "solvers.0.name", "unknown solver 'no_such_solver'"),
    ({"seeds": -3}, "seeds", "outside the allowed range [1, 10000]"),
    ({"seeds": {"start": 0, "count": -1}}, "seeds", "count -1"),
    ({"seeds": [0, -2]}, "seeds", "integers in [0, 2**63)"),
    ({"grid": {"keys": ["N", "M", "I"], "points": [[20, 6, 4], [20, 6]]}}, "grid", "points.1 has 2 values, expected 3"),
    ({"grid": {"points": [[20, 6, 4]]}}, "grid", "grid.keys is missing"),
    ({"grid": {"product": {"N": []}}}, "grid", "product.N is empty"),
    ({"grid": {"product": {"N": 5}}}, "grid.product.N", "Input should be a valid"),
    ({"grid": {"product": {"N": [0]}}}, "grid point 0", "params.N"),
    ({"grid": {"product": {"N": [3], "bogus_param": [1]}}}, "grid point 0", "params.bogus_param"),
    ({"plot": {"kind": "lines", "x": "K"}}, "plot.x", "'K' is not a grid parameter"),
    ({"solvers": [{"name": "random", "options": {"restarts": 3}}]}, "solvers.0.options.restarts", "not taken"),
    ({"solvers": [{"name": "random", "budget": 0}]}, "solvers.0.budget", "greater than or equal to 1"),
    ({"scenario": "mars-mec"}, "scenario", "unknown scenario 'mars-mec'"),
    ({"preset": "nope"}, "preset", "unknown preset 'nope'"),
    ({"repetitions": 0}, "repetitions", "greater than or equal to 1"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"solvers": [{"name": "random"}, {"name": "random"}]}, "solvers", "label 'random' is used twice"),
    ({"solvers": [{"name": "random", "label": "a"}, {"name": "random", "label": "b"}]}, "solvers", "same run"),
])
def test_bad_spec_names_the_field(write_spec, change, field, words):
    err = error_of(write_spec, tiny_spec(**change))
    assert err.field.endswith(f": {field}") or f": {field}" in err.field, err
    assert words in err.message or words in str(err), err
    assert "\n" not in str(err)


def test_optional_and_registered_solvers(write_spec):
    spec = load_spec(write_spec(tiny_spec(
        solvers=[{"name": "not_installed_yet", "optional": True}, {"name": "local"}],
        add_registered_solvers=True, exclude_solvers=["exhaustive", "reference"])))
    names = [s.name for s in spec.solvers]
    assert names[0] == "local" and "not_installed_yet" not in names
    assert "random" in names and "exhaustive" not in names and "reference" not in names


def test_seed_forms(write_spec):
    assert load_spec(write_spec(tiny_spec(seeds={"start": 5, "count": 3}))).seeds == [5, 6, 7]
    assert load_spec(write_spec(tiny_spec(seeds=[4, 2]))).seeds == [4, 2]


def test_cli_rejects_unknown_solver_before_any_run(write_spec, tmp_path):
    spec = write_spec(tiny_spec(solvers=[{"name": "local"}, {"name": "bogus"}]))
    out = tmp_path / "store"
    proc = subprocess.run([sys.executable, "-m", "offloadlab", "run", str(spec), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "solvers.1.name: unknown solver 'bogus'" in lines[0], proc.stderr
    assert not out.exists()


def test_repository_specs_are_valid_in_structure():
    """Every spec of every registered paper parses, full and quick."""
    from offloadlab.core.registry import papers

    specs = [p for paper in papers().values() for quick in (False, True) for p in paper.spec_paths(quick)]
    assert len(specs) >= 4
    for path in specs:
        try:
            load_spec(path)
        except InputError as exc:
            assert "unknown solver" in exc.message, exc


def test_entry_budget_null_keeps_the_solver_default(write_spec):
    spec = load_spec(write_spec(tiny_spec(solvers=[{"name": "local", "budget": None}, {"name": "random"}])))
    assert {r.solver: r.budget for r in expand(spec)} == {"local": None, "random": 64}
