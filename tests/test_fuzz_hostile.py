"""Property-based tests of hostile inputs (hypothesis), in the default suite: what a shared spec may name
(paths, secret options), duplicate keys, contract-exact instances, extreme values inside the bounds, and
solver network sizes and budgets. The property of tests/test_fuzz.py holds throughout: exit 2 with one line
``error: <field>: ...`` and nothing else, or a clean result; never a traceback, a hang or silent acceptance.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from annotated_types import Ge, Gt, Le, Lt
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from offloadlab.core.errors import InputError
from offloadlab.core.resources import MEMORY_ENV
from offloadlab.experiments.confine import DATA_ENV, SECRET_OPTIONS, confined_path
from offloadlab.scenarios.dt_vehicular.params import DtVehicularParams
from offloadlab.scenarios.leo_inference.params import LeoParams
from offloadlab.scenarios.mec_queues.params import MecQueuesParams
from offloadlab.scenarios.sagin_caching.params import SaginParams
from offloadlab.scenarios.satellite_mec.params import SatMecParams
from tests.test_fuzz import FUZZ, SCENARIOS, cli, dump, lowest_decision, outcome, small_instance


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A folder for the files of every example (hypothesis runs examples without function fixtures)."""
    return tmp_path_factory.mktemp("hostile")


PARAMS = {
    "satellite-mec": SatMecParams,
    "dt-vehicular": DtVehicularParams,
    "sagin-caching": SaginParams,
    "mec-queues": MecQueuesParams,
    "leo-inference": LeoParams,
}
# Parameters whose largest value is minutes of honest work (an episode, a horizon, a training run, an orbit
# search on a fine grid): bounded, but not what a fuzz example of seconds should spend its time on.
LONG_AT_MAXIMUM = {
    "slots",
    "drain_slots",
    "hours",
    "T",
    "market_train_episodes",
    "window_step_s",
    "images_per_task",
    "deadline_slots",
}


def one_line_error(code: int, out: str, err: str, what: str) -> str:
    """Assert a clean refusal; the error line."""
    assert outcome(code, out, err, what) is None and code == 2, f"{what}: accepted (exit {code}): {out[:200]}"
    return err.strip()


# ------------------------------------------------------------------------------------ spec paths and secrets

SEGMENTS = st.sampled_from(["..", ".", "ckpt", "a b", "x.pt", "~", "", "sub", "..."])


@st.composite
def spec_paths(draw: st.DrawFn) -> str:
    """A path a spec might name: relative or absolute, with parent steps, odd names or a great length."""
    parts = draw(st.lists(SEGMENTS, min_size=1, max_size=6))
    text = "/".join(parts)
    if draw(st.booleans()):
        text = draw(st.sampled_from(["/", "/tmp/", "/proc/self/", "/etc/", "//"])) + text
    if draw(st.integers(0, 9)) == 0:
        text += "y" * 5000
    return text or "."


@settings(FUZZ, max_examples=40)
@given(value=spec_paths())
def test_spec_paths_stay_in_the_results_folder(value, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    try:
        path = confined_path(value, out, "option checkpoint")
    except InputError as exc:
        assert exc.field == "option checkpoint" and len(str(exc)) < 1000
        return
    assert path == out.resolve() or out.resolve() in path.parents or Path("train").resolve() in path.parents


@settings(FUZZ, max_examples=12)
@given(value=spec_paths(), solver=st.sampled_from(["marl", "sarl"]))
def test_a_spec_naming_an_outside_path_is_refused_before_any_run(value, solver, workdir):
    out = workdir / "store"
    try:
        confined_path(value, out, "x")
        assume(False)  # a path inside: that run would train, which is not this test's business
    except InputError:
        pass
    spec = {
        "name": "hostile",
        "scenario": "dt-vehicular",
        "params": {"N": 2, "K": 1, "slots": 3},
        "seeds": 1,
        "solvers": [{"name": solver, "options": {"checkpoint": value, "episodes": 1}}],
    }
    (workdir / "spec.yaml").write_text(yaml.safe_dump(spec))
    line = one_line_error(*cli("run", workdir / "spec.yaml", "--out", out, "--quiet"), f"checkpoint {value[:60]!r}")
    assert "options.checkpoint" in line and not (out / "runs").exists()


@settings(FUZZ, max_examples=12)
@given(
    option=st.sampled_from(SECRET_OPTIONS),
    value=st.sampled_from(["EVIL_KEY", "PATH", "http://attacker.example/v1", "sk-live-0123456789", ""]),
    solver=st.sampled_from(["llm", "ga", "random"]),
)
def test_a_spec_cannot_choose_the_key_variable_or_the_endpoint(option, value, solver, workdir):
    spec = {"name": "hostile", "scenario": "satellite-mec", "seeds": 1, "solvers": [{"name": solver}]}
    spec["solvers"][0]["options"] = {option: value}
    (workdir / "spec.yaml").write_text(yaml.safe_dump(spec))
    line = one_line_error(*cli("run", workdir / "spec.yaml", "--out", workdir / "s", "--quiet"), f"{option}")
    assert f"options.{option}" in line and "not allowed in a spec" in line


def test_the_data_folder_is_allowed(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    inside = confined_path(str(tmp_path / "data" / "m.gguf"), tmp_path / "out", "option model")
    assert inside == (tmp_path / "data" / "m.gguf").resolve()
    with pytest.raises(InputError, match="leaves the results folder"):
        confined_path(str(tmp_path / "elsewhere.gguf"), tmp_path / "out", "option model")


# ------------------------------------------------------------------------------------------ duplicate keys


def with_duplicate(doc: Any, path: tuple[Any, ...], key: str, value: Any) -> str:
    """JSON text of ``doc`` where the object at ``path`` carries ``key`` a second time, holding ``value``."""
    if not path:
        body = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in doc.items()]
        return "{" + ", ".join([*body, f"{json.dumps(key)}: {json.dumps(value)}"]) + "}"
    head, rest = path[0], path[1:]
    body = [
        f"{json.dumps(k)}: {with_duplicate(v, rest, key, value) if k == head else json.dumps(v)}"
        for k, v in doc.items()
    ]
    return "{" + ", ".join(body) + "}"


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=6)
@given(data=st.data())
def test_a_key_given_twice_is_an_error(scenario, workdir, data):
    doc = small_instance(scenario)
    where = data.draw(st.sampled_from([(), ("params",)]))
    obj = doc[where[0]] if where else doc
    key = data.draw(st.sampled_from(sorted(obj)))
    value = data.draw(st.sampled_from([obj[key], 1, "x", None]))
    (workdir / "dup.json").write_text(with_duplicate(doc, where, key, value))
    dump(workdir / "d.json", lowest_decision(scenario))
    line = one_line_error(*cli("evaluate", workdir / "dup.json", workdir / "d.json"), f"{scenario} {where} {key}")
    assert key in line and "twice" in line


def test_a_yaml_key_given_twice_is_an_error(workdir):
    (workdir / "spec.yaml").write_text(
        "name: a\nscenario: satellite-mec\nseeds: 1\nseeds: 2\nsolvers: [{name: local}]\n"
    )
    line = one_line_error(*cli("run", workdir / "spec.yaml", "--out", workdir / "s", "--quiet"), "yaml")
    assert "appears twice" in line and "line 4" in line


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=4)
@given(key=st.sampled_from(["extra", "comment", "seed2", "Params", "x" * 300]))
def test_an_unknown_top_level_key_is_an_error(scenario, workdir, key):
    doc = {**small_instance(scenario), key: 1}
    line = one_line_error(
        *cli("evaluate", dump(workdir / "i.json", doc), dump(workdir / "d.json", lowest_decision(scenario))), key
    )
    assert "unknown field" in line and len(line) < 2000


# ------------------------------------------------------------------------------------ contract-exact instances


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=4)
@given(data=st.data())
def test_an_instance_without_its_optional_settings_evaluates_the_same(scenario, workdir, data):
    optional = PARAMS[scenario].INPUT_OPTIONAL
    doc = small_instance(scenario)
    dropped = data.draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
    lean = {**doc, "params": {k: v for k, v in doc["params"].items() if k not in dropped}}
    decision = dump(workdir / "d.json", lowest_decision(scenario))
    full = outcome(*cli("evaluate", dump(workdir / "i.json", doc), decision), scenario)
    got = outcome(*cli("evaluate", dump(workdir / "j.json", lean), decision), f"{scenario} without {dropped}")
    assert got == full


def test_the_documented_satellite_mec_instance_evaluates(workdir):
    params = {
        "M": 3,
        "N": 10,
        "I": 4,
        "bandwidth_hz": 1e7,
        "noise_dbm": -134,
        "p_max_w": 0.2,
        "f_iot_hz": 5e8,
        "f_sat_hz": 2e10,
        "rho_cycles_per_bit": 100,
        "deadline_s": 1.0,
        "antenna_gain_dbi": 3,
        "carrier_hz": 3.49e9,
        "earth_radius_m": 6.371e6,
        "altitude_m": 5.5e5,
    }
    doc = {
        "scenario": "satellite-mec",
        "params": params,
        "elevation_deg": [30.0, 60.0, 85.0],
        "fading_power": [[[1.0] * 4] * 10] * 3,
        "data_bits": [4e6] * 10,
    }
    decision = {"offload": [[0] * 10] * 3, "power_w": [[0.0] * 4] * 10}
    res = outcome(*cli("evaluate", dump(workdir / "i.json", doc), dump(workdir / "d.json", decision)), "contract")
    # all local: eq. (6), 4e6 bits x 100 cycles/bit at 5e8 cycles/s
    assert res["feasible"] and res["mean_latency_s"] == pytest.approx(0.8)
    for name in params:  # each of the 14 is required
        short = {**doc, "params": {k: v for k, v in params.items() if k != name}}
        line = one_line_error(*cli("evaluate", dump(workdir / "i.json", short), workdir / "d.json"), name)
        assert f"params.{name}" in line


# --------------------------------------------------------------------------------- extreme in-bound values


def bounds(field: Any) -> list[float]:
    """The extreme values a numeric field allows (its bounds, or just inside an open one)."""
    values: list[float] = []
    for m in field.metadata:
        if isinstance(m, (Ge, Le)):
            values.append(m.ge if isinstance(m, Ge) else m.le)
        elif isinstance(m, Gt):
            values.append(m.gt + 1 if field.annotation is int else (m.gt * (1 + 1e-9) if m.gt else 1e-300))
        elif isinstance(m, Lt):
            values.append(m.lt - 1 if field.annotation is int else (m.lt * (1 - 1e-9) if m.lt else -1e-300))
    return values


def extremes(scenario: str) -> list[tuple[str, float]]:
    """(parameter, extreme value) pairs of a scenario's numeric parameters, leaving its small sizes alone."""
    small = small_instance(scenario)["params"]
    model = PARAMS[scenario]
    out = []
    for name, field in model.model_fields.items():
        if field.annotation not in (int, float) or name in get_small(scenario):
            continue
        for value in bounds(field):
            if not (name in LONG_AT_MAXIMUM and value > small[name]):
                out.append((name, value))
    return out


def get_small(scenario: str) -> set[str]:
    from offloadlab.core.registry import get_scenario

    return set(get_scenario(scenario).manifest.small)


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=8)
@given(data=st.data())
def test_extreme_values_inside_the_bounds(scenario, workdir, data):
    name, value = data.draw(st.sampled_from(extremes(scenario)))
    small = {k: v for k, v in small_instance(scenario)["params"].items() if k in get_small(scenario)}
    args = [f"--{k}={json.dumps(v)}" for k, v in {**small, name: value}.items()]
    what = f"{scenario} {name}={value!r}"
    code, out, err = cli("instance", scenario, *args, "-o", workdir / "i.json")
    if code == 2:  # refused with its reason (e.g. a cross-field rule such as min <= max)
        one_line_error(code, out, err, what)
        return
    assert code == 0, f"{what}: {err[-2000:]}"
    res = outcome(*cli("evaluate", workdir / "i.json", dump(workdir / "d.json", lowest_decision(scenario))), what)
    if res is not None and res.get("feasible"):
        objective = res.get(get_scenario_objective(scenario))
        assert objective is None or math.isfinite(objective), f"{what}: feasible with {objective!r}"


def get_scenario_objective(scenario: str) -> str:
    from offloadlab.core.registry import get_scenario

    return get_scenario(scenario).manifest.objective.name


# ------------------------------------------------------------------------------ network sizes and budgets

WIDTHS = st.lists(st.integers(1, 4096), min_size=1, max_size=8)


def limited_cli(limit: str, *argv: Any) -> tuple[int, str, str]:
    """``offloadlab --max-memory LIMIT ARGV`` in this process, leaving the limit as it was afterwards (the
    option sets $OFFLOADLAB_MAX_MEMORY for the command's worker processes)."""
    before = os.environ.get(MEMORY_ENV)
    try:
        return cli("--max-memory", limit, *argv)
    finally:
        if before is None:
            os.environ.pop(MEMORY_ENV, None)
        else:
            os.environ[MEMORY_ENV] = before


@settings(FUZZ, max_examples=5)
@given(hidden=WIDTHS, budget=st.integers(10**5, 10**9), batch=st.integers(1, 65_536))
def test_ddpg_networks_and_buffer_count_against_the_memory_limit(workdir, hidden, budget, batch):
    inst = dump(workdir / "i.json", small_instance("satellite-mec"))
    argv = [
        "solve",
        inst,
        "--solver",
        "ddpg",
        "--budget",
        budget,
        "--hidden",
        json.dumps(hidden),
        "--batch-size",
        batch,
    ]
    line = one_line_error(*limited_cli("4MiB", *argv), f"ddpg {hidden}")
    assert "hidden" in line and "memory" in line


@settings(FUZZ, max_examples=10)
@given(hidden=WIDTHS, batch=st.integers(1, 65_536), episodes=st.integers(1000, 100_000))
def test_marl_networks_and_buffer_count_against_the_memory_limit(workdir, hidden, batch, episodes):
    inst = dump(workdir / "i.json", small_instance("dt-vehicular"))
    argv = ["solve", inst, "--solver", "marl", "--episodes", episodes, "--progress", "false"]
    argv += ["--hidden", json.dumps(hidden), "--batch-size", batch]
    line = one_line_error(*limited_cli("1MiB", *argv), f"marl {hidden}")
    assert "hidden" in line and "memory" in line


@settings(FUZZ, max_examples=6)
@given(n_steps=st.integers(1, 100_000), budget=st.integers(1, 256))
def test_a3c_rollouts_are_bound_by_the_budget(workdir, n_steps, budget):
    inst = dump(workdir / "i.json", small_instance("leo-inference"))
    code, out, err = cli("solve", inst, "--solver", "a3c", "--budget", budget, "--n-steps", n_steps)
    assert code == 0, err
    assert json.loads(out)["stats"]["training"]["env_steps"] <= budget


def test_secret_environment_values_never_reach_an_error_line(workdir, monkeypatch):
    key = "sk-test-" + "7" * 32
    monkeypatch.setenv("OPENAI_API_KEY", key)
    inst = dump(workdir / "i.json", small_instance("satellite-mec"))
    code, out, err = cli("solve", inst, "--solver", "ga", "--pop-size", key)  # the value is echoed back
    line = one_line_error(code, out, err, "echoed key")
    assert key not in line and "***" in line
    assert os.environ["OPENAI_API_KEY"] == key
