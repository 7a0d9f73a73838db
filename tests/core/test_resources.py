"""Memory estimates before allocation: the limit's parsing, one-line refusals, and room for every shipped spec."""

from __future__ import annotations

import json

import pytest

from offloadlab.core import config, resources
from offloadlab.core.errors import InputError
from offloadlab.core.registry import get_scenario, papers
from offloadlab.core.resources import MEMORY_ENV, check_batch, memory_limit_bytes, parse_size
from offloadlab.experiments.plan import expand
from offloadlab.experiments.spec import load_spec
from tests.test_cli import run_cli


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000000", 10**6),
        ("500MB", 500 * 10**6),
        ("4GiB", 4 * 2**30),
        ("1.5 gb", 1_500_000_000),
        ("2tib", 2 * 2**40),
        (" 64 KiB ", 64 * 2**10),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "4 GiBs", "-1GB", "1e9", "0", "0.1b", "GB"])
def test_parse_size_rejects(text):
    with pytest.raises(InputError, match=MEMORY_ENV):
        parse_size(text)


def test_limit_from_env_and_default(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "3GiB")
    assert memory_limit_bytes() == 3 * 2**30
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(InputError, match=f"{MEMORY_ENV}: expected a size"):
        memory_limit_bytes()
    monkeypatch.delenv(MEMORY_ENV)
    total = resources.machine_memory_bytes()
    assert memory_limit_bytes() == (min(total // 2, resources.DEFAULT_CAP) if total else resources.FALLBACK)


def test_format_bytes():
    assert resources.format_bytes(12) == "12 bytes"
    assert resources.format_bytes(1.5 * 2**30) == "1.5 GiB"
    assert resources.format_bytes(2.56e11 * 8) == "1.86 TiB"


def _one_line_error(code, out, err):
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_huge_instance_fails_fast(tmp_path, capsys, monkeypatch):
    """The issue's case: 1.86 TiB of fading alone; refused from the parameters, nothing written."""
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    out_file = tmp_path / "x.json"
    argv = ["instance", "satellite-mec", "--N", 1000000, "--M", 1000, "--I", 256, "-o", out_file]
    line = _one_line_error(*run_cli(argv, capsys, monkeypatch))
    assert line.startswith("error: params: an instance of these parameters needs about ")
    assert "TiB of memory" in line and MEMORY_ENV in line
    assert not out_file.exists()


def test_low_limit_refuses_a_modest_instance(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    inst = tmp_path / "inst.json"
    assert run_cli(["instance", "mec-queues", "--devices", 200, "-o", inst], capsys, monkeypatch)[0] == 0
    monkeypatch.setenv(MEMORY_ENV, "1MB")
    for argv in (["instance", "mec-queues", "--devices", 200], ["solve", inst, "--solver", "local"]):
        line = _one_line_error(*run_cli(argv, capsys, monkeypatch))
        assert "params: an instance of these parameters needs about" in line
        assert "above the limit of 977 KiB" in line
    # the global option overrides the environment (and a bad one is one line too)
    code, out, _ = run_cli(["--max-memory", "1GiB", "solve", inst, "--solver", "local"], capsys, monkeypatch)
    assert code == 0 and json.loads(out)["feasible"] in (True, False)
    line = _one_line_error(*run_cli(["--max-memory", "much", "list"], capsys, monkeypatch))
    assert line.startswith("error: --max-memory: expected a size")


def test_dt_vehicular_episode_edited_in_file(tmp_path, capsys, monkeypatch):
    """The issue's 684-byte instance (N = 1000, K = 64, 100,000 slots): refused by evaluate and solve."""
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    small = tmp_path / "dt.json"
    assert (
        run_cli(["instance", "dt-vehicular", "--N", 3, "--K", 2, "--slots", 10, "-o", small], capsys, monkeypatch)[0]
        == 0
    )
    data = json.loads(small.read_text())
    data["params"].update(N=1000, K=64, slots=100_000)
    big = tmp_path / "dt_big.json"
    big.write_text(json.dumps(data))
    decision = tmp_path / "d.json"
    decision.write_text(json.dumps({"omega": [[0.0] * 64] * 1000, "alpha": [[0.0] * 64] * 1000}))
    for argv in (["evaluate", big, decision], ["solve", big, "--solver", "local"]):
        line = _one_line_error(*run_cli(argv, capsys, monkeypatch))
        assert "params: an instance of these parameters needs about" in line and "GiB of memory" in line


def test_solver_batch_check(monkeypatch):
    """A solver's batch (population, grid of moves, simulator copies) is checked with the scenario's estimate."""
    problem = get_scenario("satellite-mec")
    inst = problem.load_instance(problem.make_instance(0, "default", M=3, N=10, I=4))
    monkeypatch.setenv(MEMORY_ENV, "1MB")
    check_batch(inst, 10, "option pop_size")
    with pytest.raises(InputError, match="option pop_size: 100000 decisions at once on this instance needs about"):
        check_batch(inst, 100_000, "option pop_size")


def _spec_instances():
    """(scenario, preset, params) of every instance the shipped full and quick specs generate."""
    seen = {}
    for paper in papers().values():
        for path in paper.spec_paths(False) + paper.spec_paths(True):
            for run in expand(load_spec(path, check=False)):
                key = json.dumps([run.scenario, run.preset, run.params], sort_keys=True)
                seen[key] = (run.scenario, run.preset, run.params)
    return list(seen.values())


class _Sized(Exception):
    """Raised once the parameters of an instance are validated: generation stops before any array."""


def test_default_limit_allows_every_preset_and_spec(monkeypatch):
    """Every preset and every shipped (full or quick) spec instance fits the fallback limit of 4 GiB,
    the smallest default (half the RAM of an 8 GiB machine)."""
    monkeypatch.setenv(MEMORY_ENV, str(resources.FALLBACK))
    sizes: list[int] = []

    def check_then_stop(params, where="params"):
        resources.check_params(params, where)
        if isinstance(params, resources.MemoryEstimate):
            sizes.append(params.estimate_bytes())
            raise _Sized

    monkeypatch.setattr(config, "check_params", check_then_stop)
    cases = [(sc, preset, {}) for sc in papers() for preset in get_scenario(sc).manifest.presets]
    cases += _spec_instances()
    assert len(cases) > 20
    for scenario, preset, params in cases:
        with pytest.raises(_Sized):
            get_scenario(scenario).make_instance(0, preset, **params)
    assert len(sizes) == len(cases) and max(sizes) <= resources.FALLBACK
