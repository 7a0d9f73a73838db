"""Spec validation: every defect fails before any run, with one line naming the field."""

from __future__ import annotations

import subprocess
import sys

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
    b = expand(
        load_spec(
            write_spec(tiny_spec(solvers=[{"name": "local", "label": "all local"}, {"name": "random", "label": "RC"}]))
        )
    )
    assert [r.key for r in a] == [r.key for r in b]
    c = expand(load_spec(write_spec(tiny_spec(budget=65))))
    assert {r.key for r in a if r.solver == "random"}.isdisjoint(r.key for r in c)


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"solvers": [{"name": "no_such_solver"}]}, "solvers.0.name", "unknown solver 'no_such_solver'"),
        ({"seeds": -3}, "seeds", "outside the allowed range [1, 10000]"),
        ({"seeds": {"start": 0, "count": -1}}, "seeds", "count -1"),
        ({"seeds": [0, -2]}, "seeds", "integers in [0, 2**63)"),
        (
            {"grid": {"keys": ["N", "M", "I"], "points": [[20, 6, 4], [20, 6]]}},
            "grid",
            "points.1 has 2 values, expected 3",
        ),
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
    ],
)
def test_bad_spec_names_the_field(write_spec, change, field, words):
    err = error_of(write_spec, tiny_spec(**change))
    assert err.field.endswith(f": {field}") or f": {field}" in err.field, err
    assert words in err.message or words in str(err), err
    assert "\n" not in str(err)


def test_optional_and_registered_solvers(write_spec):
    spec = load_spec(
        write_spec(
            tiny_spec(
                solvers=[{"name": "not_installed_yet", "optional": True}, {"name": "local"}],
                add_registered_solvers=True,
                exclude_solvers=["exhaustive", "reference"],
            )
        )
    )
    names = [s.name for s in spec.solvers]
    assert names[0] == "local" and "not_installed_yet" not in names
    assert "random" in names and "exhaustive" not in names and "reference" not in names


def test_seed_forms(write_spec):
    assert load_spec(write_spec(tiny_spec(seeds={"start": 5, "count": 3}))).seeds == [5, 6, 7]
    assert load_spec(write_spec(tiny_spec(seeds=[4, 2]))).seeds == [4, 2]


def test_cli_rejects_unknown_solver_before_any_run(write_spec, tmp_path):
    spec = write_spec(tiny_spec(solvers=[{"name": "local"}, {"name": "bogus"}]))
    out = tmp_path / "store"
    proc = subprocess.run(
        [sys.executable, "-m", "offloadlab", "run", str(spec), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
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


BOMB = """name: bomb
scenario: satellite-mec
seeds: 1
solvers: [{name: random}]
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


@pytest.mark.parametrize(
    "text,words",
    [
        (BOMB, "anchors and aliases (&name, *name) are not allowed"),
        ("base: &base {name: random}\nsolvers: [*base]\n", "anchors and aliases"),
        ("solvers: " + "[" * 40 + "]" * 40 + "\n", "nested deeper than 32 levels"),
        ("solvers: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 32 levels"),
    ],
)
def test_yaml_anchor_bombs_and_deep_nesting_are_refused(tmp_path, text, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="not valid YAML at line") as info:
        load_spec(path)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_spec_file_that_is_binary_huge_or_a_folder(tmp_path):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: x\0\xff")
    with pytest.raises(InputError, match="spec: .* is not a text file"):
        load_spec(binary)
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * 2**20 + "\nname: x\n")
    with pytest.raises(InputError, match="spec: .* bytes, more than the 1048576 allowed"):
        load_spec(huge)
    with pytest.raises(InputError, match="spec: .* is a folder"):
        load_spec(tmp_path)


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"seeds": 10_000_000}, "seeds", "seed count 10000000 outside the allowed range [1, 10000]"),
        ({"seeds": {"start": 2**63 - 1, "count": 2}}, "seeds", "beyond 2**63 - 1"),
        ({"seeds": [2**64]}, "seeds", "integers in [0, 2**63)"),
        ({"seeds": list(range(10_001))}, "seeds", "10001 seeds, more than the 10000 allowed"),
        ({"budget": 10**12}, "budget", "less than or equal to 1000000000"),
        ({"solvers": [{"name": "random", "budget": 2**70}]}, "solvers.0.budget", "less than or equal to 1000000000"),
        ({"seeds": 10_000, "grid": {"product": {"N": [3, 4]}}}, "spec", "40000 runs (seeds x grid points x solvers"),
        (
            {"grid": {"product": {f"p{i}": list(range(10)) for i in range(10)}}},
            "grid",
            "10000000000 grid points, more than the 20000",
        ),
    ],
)
def test_spec_limits(write_spec, change, field, words):
    err = error_of(write_spec, tiny_spec(**change))
    assert err.field.endswith(f": {field}"), err
    assert words in err.message, err


def test_run_limit_can_be_raised(write_spec, monkeypatch):
    monkeypatch.setenv("OFFLOADLAB_MAX_RUNS", "4")
    assert "8 runs" in error_of(write_spec, tiny_spec()).message
    monkeypatch.setenv("OFFLOADLAB_MAX_RUNS", "8")
    assert len(expand(load_spec(write_spec(tiny_spec())))) == 8


def test_add_registered_solvers_counts_toward_the_run_limit(write_spec, monkeypatch):
    monkeypatch.setenv("OFFLOADLAB_MAX_RUNS", "8")
    err = error_of(write_spec, tiny_spec(add_registered_solvers=True))
    assert err.field.endswith(": spec") and "runs" in err.message
