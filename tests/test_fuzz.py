"""Property-based fuzzing of the CLI over every registered scenario (hypothesis).

A valid instance, decision, solver option set and spec of each scenario is mutated (a key deleted, a value
retyped, set to NaN / infinity / a huge or negative number, or nested one level deeper) and run through the
CLI in this process (``offloadlab.cli.main``). The property: the command either exits 2 with one line
``error: <field>: ...`` on stderr and nothing on stdout, or exits 0 with a finite, valid result. Never a
traceback (an exception escaping ``main``), never a hang (a per-example watchdog), and never a silent default:
an instance or decision with a deleted field, or a number replaced by a string, boolean or null, must not be
accepted. Each example runs one short command; the default suite runs a few hundred, ``-m slow`` ten times
more and also the slower solvers.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import math
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from offloadlab.cli import main
from offloadlab.core.options import options_model
from offloadlab.core.registry import get_scenario, scenarios, solvers_for
from offloadlab.scenarios.satellite_mec.params import SatMecParams

SCENARIOS = scenarios()
WATCHDOG_S = 30  # one example running longer than this is a failure (unbounded work) ...
SLOW_WATCHDOG_S = 240  # ... except for the slower (learning) solvers of SLOW_SOLVERS
ERROR_LINE = re.compile(r"^error: [^\n]+?: [^\n]+$")
NUMBERS = [
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e30,
    10**30,
    2**63,
    2**64,
    -1,
    -1.5,
    0,
    0.0,
    1e-300,
    -1e-300,
    1,
    3,
]
RETYPED = ["abc", "10", "", True, False, None, [], {}]
# Solvers fast enough (well under a second on the small instance) for the default suite; the rest run in -m slow.
SLOW_SOLVERS = {
    ("dt-vehicular", "marl"),
    ("dt-vehicular", "sarl-global"),
    ("leo-inference", "ga"),
    ("sagin-caching", "dqmsb"),
    ("satellite-mec", "ddpg"),
}
LLM_SOLVERS = {"llm", "llm-icl"}  # they load a language model: covered by tests/llm, not fuzzed here


class Watchdog(Exception):
    """An example ran past WATCHDOG_S."""


@contextlib.contextmanager
def watchdog(seconds: int) -> Iterator[None]:
    """Raise Watchdog in this (main) thread after ``seconds``."""

    def fire(signum: int, frame: Any) -> None:
        raise Watchdog(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def cli(*argv: Any, limit: int = WATCHDOG_S) -> tuple[int, str, str]:
    """Run ``offloadlab ARGV`` in this process for at most ``limit`` seconds; (exit code, stdout, stderr).
    Exceptions other than SystemExit propagate: they are tracebacks a user would see."""
    out, err = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = ["offloadlab", *map(str, argv)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), watchdog(limit):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old_argv
    return code, out.getvalue(), err.getvalue()


def finite_json(text: str) -> Any:
    """Parse JSON output, refusing NaN/Infinity (the CLI writes non-finite numbers as null)."""

    def refuse(token: str) -> Any:
        raise AssertionError(f"non-finite number {token} in the output")

    return json.loads(text, parse_constant=refuse)


def outcome(code: int, out: str, err: str, what: str) -> Any | None:
    """Check the property; the parsed stdout JSON on success, None on a clean error."""
    if currently_in_test_context():  # also called from the known-defect cases, outside hypothesis
        event(f"exit {code}")
    if code == 2:
        assert out == "", f"{what}: output on stdout with an error: {out[:200]}"
        lines = err.splitlines()
        assert len(lines) == 1 and ERROR_LINE.match(lines[0]), f"{what}: not one 'error: field: ...' line: {err!r}"
        return None
    assert code == 0, f"{what}: exit {code}: {err[-2000:]}"
    return finite_json(out) if out.strip() else {}


# ----------------------------------------------------------------------------------------------- mutations


@dataclass(frozen=True)
class Mutation:
    """Change the value at ``path`` of a JSON document: delete it, or replace it by ``value`` (nest: wrap it)."""

    path: tuple[Any, ...]
    op: str  # delete | set | nest
    value: Any = None  # set: the new value; nest: "list" or "dict"

    def apply(self, doc: Any) -> Any:
        """A mutated deep copy of ``doc``."""
        doc = copy.deepcopy(doc)
        parent = doc
        for step in self.path[:-1]:
            parent = parent[step]
        last = self.path[-1]
        if self.op == "delete":
            del parent[last]
        elif self.op == "nest":
            parent[last] = [parent[last]] if self.value == "list" else {"v": parent[last]}
        else:
            parent[last] = self.value
        return doc

    def leaf(self, doc: Any) -> Any:
        """The original value at the path."""
        for step in self.path:
            doc = doc[step]
        return doc

    def silent_if_accepted(self, doc: Any) -> bool:
        """Whether accepting the mutated ``doc`` means a default or a coercion filled the gap: a deleted key of an
        object, or a number replaced by text, a boolean or null (a list may legitimately get shorter)."""
        if self.op == "delete":
            return isinstance(self.path[-1], str)
        was = self.leaf(doc)
        number = isinstance(was, (int, float)) and not isinstance(was, bool)
        return self.op == "set" and number and (isinstance(self.value, (str, bool)) or self.value is None)


@st.composite
def paths(draw: st.DrawFn, doc: Any) -> tuple[Any, ...]:
    """A path into ``doc``: walk down from the root, stopping at random or at a leaf."""
    path: list[Any] = []
    node = doc
    while isinstance(node, (dict, list)) and node and (not path or draw(st.integers(0, 3)) > 0):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else [0, len(node) - 1]))
        path.append(key)
        node = node[key]
    return tuple(path)


@st.composite
def mutations(draw: st.DrawFn, doc: Any, skip: frozenset[tuple[Any, ...]] = frozenset()) -> Mutation:
    """One mutation of ``doc`` (paths starting with an entry of ``skip`` are left alone)."""
    path = draw(paths(doc).filter(lambda p: bool(p) and not any(p[: len(s)] == s for s in skip)))
    op = draw(st.sampled_from(["delete", "set", "set", "nest"]))
    if op == "set":
        return Mutation(path, op, draw(st.sampled_from(NUMBERS + RETYPED)))
    return Mutation(path, op, draw(st.sampled_from(["list", "dict"])) if op == "nest" else None)


# ------------------------------------------------------------------------------------------- valid inputs


def small_instance(scenario: str) -> dict[str, Any]:
    """The manifest's small instance of ``scenario`` as JSON data (a fresh copy)."""
    return copy.deepcopy(_small_instance(scenario))


@functools.cache
def _small_instance(scenario: str) -> dict[str, Any]:
    problem = get_scenario(scenario)
    return problem.make_instance(0, "default", **problem.manifest.small)


def lowest_decision(scenario: str) -> dict[str, Any]:
    """The decision at the lower bounds of the decision space (always well-formed), as JSON data."""
    return copy.deepcopy(_lowest_decision(scenario))


@functools.cache
def _lowest_decision(scenario: str) -> dict[str, Any]:
    problem = get_scenario(scenario)
    space = problem.decision_space(problem.load_instance(_small_instance(scenario)))
    return {f.name: np.full(f.shape, f.low).tolist() for f in space.fields}


def fast_solvers(scenario: str, slow: bool) -> list[str]:
    """Solvers fuzzed for ``scenario`` (the slower ones only with ``slow``)."""
    return [
        n
        for n, s in sorted(solvers_for(scenario).items())
        if n not in LLM_SOLVERS and not s.smoke.slow and (slow or (scenario, n) not in SLOW_SOLVERS)
    ]


def option_set(scenario: str, solver: str) -> dict[str, Any]:
    """Every option the solver takes with a JSON-able default, overlaid with its smoke options."""
    spec = solvers_for(scenario)[solver]
    model = options_model(spec.fn)
    out = {}
    for name, field in model.model_fields.items():
        default = field.default
        if isinstance(default, tuple):
            default = list(default)
        if isinstance(default, (bool, int, float, str, list)) and not name.startswith("llm_"):
            out[name] = default
    return {**out, **dict(spec.smoke.options)}


def base_spec(scenario: str, solver: str) -> dict[str, Any]:
    """A one-run spec of ``scenario`` with ``solver`` at its smoke settings."""
    spec = solvers_for(scenario)[solver]
    entry: dict[str, Any] = {"name": solver, "options": dict(spec.smoke.options)}
    if spec.smoke.budget is not None:
        entry["budget"] = spec.smoke.budget
    return {
        "name": "fuzz",
        "scenario": scenario,
        "params": dict(get_scenario(scenario).manifest.small),
        "seeds": 1,
        "solvers": [entry],
    }


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A folder for the files of every example (hypothesis runs examples without function fixtures)."""
    path = Path(tempfile.mkdtemp(prefix="offloadlab-fuzz-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def dump(path: Path, obj: Any) -> Path:
    """Write JSON allowing NaN/Infinity literals (the CLI must refuse them)."""
    path.write_text(json.dumps(obj, allow_nan=True))
    return path


# ------------------------------------------------------------------------------------------------ checks


def check_evaluate(scenario: str, instance: Any, decision: Any, workdir: Path, what: str) -> Any | None:
    """``offloadlab evaluate``: a clean error or a finite report (finite_json); a feasible one has its objective
    finite (where the report carries the manifest's objective key: dt-vehicular and leo-inference do not)."""
    res = outcome(*cli("evaluate", dump(workdir / "i.json", instance), dump(workdir / "d.json", decision)), what)
    if res is not None:
        assert isinstance(res.get("feasible"), bool), f"{what}: no feasible flag: {res}"
        objective = get_scenario(scenario).manifest.objective.name
        if res["feasible"] and objective in res:
            assert isinstance(res[objective], (int, float)) and math.isfinite(res[objective]), (
                f"{what}: feasible with objective {res[objective]!r}"
            )
    return res


def check_solve(
    scenario: str, solver: str, options: dict[str, Any], workdir: Path, what: str, budget: int | None = None
) -> Any | None:
    """``offloadlab solve``: a clean error or a result whose objective is finite when feasible."""
    argv: list[Any] = ["solve", dump(workdir / "i.json", small_instance(scenario)), "--solver", solver]
    if budget is not None:
        argv += ["--budget", budget]
    for name, value in options.items():
        argv += [f"--{name}", json.dumps(value, allow_nan=True)]
    res = outcome(*cli(*argv, limit=time_limit(scenario, solver)), what)
    if res is not None:
        assert isinstance(res.get("feasible"), bool), f"{what}: no feasible flag"
        if res["feasible"]:
            assert isinstance(res.get("objective"), (int, float)) and math.isfinite(res["objective"]), (
                f"{what}: feasible with objective {res.get('objective')!r}"
            )
    return res


FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
SLOW = settings(FUZZ, derandomize=False, max_examples=400)


def _instance_case(scenario: str, workdir: Path, mutation: Mutation) -> None:
    instance = small_instance(scenario)
    bad = mutation.apply(instance)
    what = f"evaluate {scenario}: instance {mutation}"
    res = check_evaluate(scenario, bad, lowest_decision(scenario), workdir, what)
    if res is not None and mutation.silent_if_accepted(instance):
        pytest.fail(f"{what}: accepted (was {mutation.leaf(instance)!r}): a silent default or coercion")


def _decision_case(scenario: str, workdir: Path, mutation: Mutation) -> None:
    decision = lowest_decision(scenario)
    what = f"evaluate {scenario}: decision {mutation}"
    res = check_evaluate(scenario, small_instance(scenario), mutation.apply(decision), workdir, what)
    if res is not None and mutation.silent_if_accepted(decision):
        pytest.fail(f"{what}: accepted (was {mutation.leaf(decision)!r}): a silent default or coercion")


def _parameter_case(scenario: str, workdir: Path, key: str, value: Any) -> None:
    text = json.dumps(value, allow_nan=True)  # a string as a JSON string: "10" must not become 10
    what = f"instance {scenario} --{key} {text[:60]!r}"
    res = outcome(*cli("instance", scenario, f"--{key}", text), what)
    if res is not None:
        got = res["params"][key]
        assert type(got) is type(value) or (isinstance(value, int) and isinstance(got, float)), (
            f"{what}: coerced to {got!r}"
        )
        get_scenario(scenario).load_instance(res)  # what `instance` writes, `evaluate` reads


def time_limit(scenario: str, solver: str) -> int:
    """The watchdog of one command running ``solver``."""
    return SLOW_WATCHDOG_S if (scenario, solver) in SLOW_SOLVERS else WATCHDOG_S


def restores_long_default(mutation: Mutation, smoke: dict[str, Any], spec: bool = False) -> bool:
    """Whether the mutation deletes a smoke setting, so the solver would run with its full default (minutes of
    learning for some): not a defect, and not what a fuzz example should spend its time on."""
    if mutation.op != "delete":
        return False
    if spec:
        return (
            mutation.path[:2] == ("solvers", 0)
            and len(mutation.path) > 2
            and mutation.path[2] in ("options", "budget")
            and (len(mutation.path) == 3 or mutation.path[3] in smoke)
        )
    return mutation.path[0] in smoke


def _option_case(scenario: str, solver: str, workdir: Path, mutation: Mutation) -> None:
    spec = solvers_for(scenario)[solver]
    assume(not restores_long_default(mutation, dict(spec.smoke.options)))
    options = mutation.apply(option_set(scenario, solver) or {"unknown_option": 1})
    what = f"solve {scenario} --solver {solver}: options {mutation}"
    check_solve(scenario, solver, options, workdir, what, spec.smoke.budget)


def _spec_case(scenario: str, solver: str, workdir: Path, mutation: Mutation) -> None:
    """``offloadlab run``: exit 2 with one line, or every run stored with a finite objective when feasible; exit 1
    only when the solver refused the instance with a named reason (InputError: e.g. exhaustive search on an
    instance too large for it), which spec validation cannot know."""
    assume(not restores_long_default(mutation, dict(solvers_for(scenario)[solver].smoke.options), spec=True))
    spec = mutation.apply(base_spec(scenario, solver))
    path = workdir / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    store = workdir / "store"
    shutil.rmtree(store, ignore_errors=True)
    what = f"run {scenario}/{solver}: spec {mutation}"
    code, out, err = cli("run", path, "--out", store, "--quiet", limit=time_limit(scenario, solver))
    if code == 1:
        event("exit 1 (a solver refused the instance)")
        rows = stored_rows(store)
        bad = [r["error"] for r in rows if r["status"] != "ok" and not r["error"].startswith("InputError: ")]
        assert rows and not bad, f"{what}: runs failed: {bad[:1] or err[-2000:]}"
        return
    outcome(code, out, err, what)
    for row in stored_rows(store):
        assert row["status"] == "ok" and (not row["feasible"] or math.isfinite(row["objective"])), f"{what}: {row}"


def stored_rows(store: Path) -> list[dict[str, Any]]:
    """Every stored row of a store (none when the command stopped before creating it)."""
    from offloadlab.experiments.store import ResultsStore

    return list(ResultsStore(store).rows().values()) if (store / "runs").is_dir() else []


# ---------------------------------------------------------------------------------------------- known defects


@dataclass(frozen=True)
class Defect:
    """A defect the fuzz test found in a folder owned by others (scenarios/<id>, methods/<id>, physics): the
    generated cases under ``key`` are left out so the property holds for everything else, and ``case``
    reproduces it (a strict xfail: it must keep failing until fixed, then this entry goes)."""

    # (scenario, "params", name) | (scenario, "instance", top-level key) | (scenario, "option", solver[, name])
    key: tuple[Any, ...]
    case: Callable[[Path], None]
    reason: str


def _param(scenario: str, name: str, value: Any, reason: str, via: str = "parameter") -> Defect:
    if via == "parameter":
        return Defect((scenario, "params", name), lambda wd: _parameter_case(scenario, wd, name, value), reason)
    mutation = Mutation(("params", name), "set", value)
    return Defect((scenario, "params", name), lambda wd: _instance_case(scenario, wd, mutation), reason)


def _option(scenario: str, solver: str, name: str, value: Any, reason: str) -> Defect:
    """A defect of the solver's options (all of them are left out of the generated cases: none has bounds)."""
    mutation = Mutation((name,), "set", value)
    return Defect((scenario, "option", solver), lambda wd: _option_case(scenario, solver, wd, mutation), reason)


def _instance(scenario: str, mutation: Mutation, reason: str) -> Defect:
    return Defect((scenario, "instance", mutation.path[0]), lambda wd: _instance_case(scenario, wd, mutation), reason)


KNOWN: list[Defect] = []

# Keys an instance may omit by its scenario's contract (docs/contracts.md): deleting them is not a silent default.
OPTIONAL = {("satellite-mec", "seed")} | {("satellite-mec", "params", k) for k in SatMecParams.INPUT_OPTIONAL}


def _known(scenario: str, kind: str, path: tuple[Any, ...], solver: str = "") -> bool:
    """Whether a generated case (a mutation at ``path`` of an instance, a ``--name`` parameter, an option set or a
    spec) falls under a known defect."""
    if kind == "spec" and path[:1] == ("solvers",):
        key: tuple[Any, ...] = (scenario, "option", solver, *path[3:4])
    elif kind == "options":
        key = (scenario, "option", solver, *path[:1])
    elif path[:1] == ("params",) or kind == "parameter":
        key = (scenario, "params", path[-1] if kind == "parameter" else path[1] if len(path) > 1 else "")
    else:
        key = (scenario, "instance", *path[:1])
    return any(key[: len(d.key)] == d.key for d in KNOWN)


@pytest.mark.parametrize(
    "defect",
    [
        pytest.param(d, id="/".join(map(str, d.key)), marks=pytest.mark.xfail(strict=True, reason=d.reason))
        for d in KNOWN
    ],
)
def test_known_defects(defect, workdir):
    defect.case(workdir)


# ------------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_mutated_instance(scenario, workdir, data):
    mutation = data.draw(mutations(small_instance(scenario)))
    assume(not _known(scenario, "instance", mutation.path))
    assume(not (mutation.op == "delete" and (scenario, *mutation.path) in OPTIONAL))
    _instance_case(scenario, workdir, mutation)


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=14)
@given(data=st.data())
def test_mutated_decision(scenario, workdir, data):
    mutation = data.draw(mutations(lowest_decision(scenario)))
    _decision_case(scenario, workdir, mutation)


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=14)
@given(data=st.data())
def test_instance_parameters_on_the_command_line(scenario, workdir, data):
    key = data.draw(st.sampled_from(sorted(small_instance(scenario)["params"])))
    value = data.draw(st.sampled_from(NUMBERS + RETYPED + [[3], {"v": 3}]))
    assume(not _known(scenario, "parameter", (key,)))
    _parameter_case(scenario, workdir, key, value)


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=14)
@given(data=st.data())
def test_mutated_solver_options(scenario, workdir, data):
    solver = data.draw(st.sampled_from(fast_solvers(scenario, slow=False)))
    mutation = data.draw(mutations(option_set(scenario, solver) or {"unknown_option": 1}))
    assume(not _known(scenario, "options", mutation.path, solver))
    _option_case(scenario, solver, workdir, mutation)


@pytest.mark.parametrize("scenario", SCENARIOS)
@settings(FUZZ, max_examples=7)
@given(data=st.data())
def test_mutated_spec(scenario, workdir, data):
    solver = data.draw(st.sampled_from(fast_solvers(scenario, slow=False)))
    mutation = data.draw(mutations(base_spec(scenario, solver)))
    assume(not _known(scenario, "spec", mutation.path, solver))
    _spec_case(scenario, solver, workdir, mutation)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
@SLOW
@given(data=st.data())
def test_slow_fuzz_everything(scenario, workdir, data):
    kind = data.draw(st.sampled_from(["instance", "decision", "parameter", "options", "spec"]))
    if kind == "instance":
        mutation = data.draw(mutations(small_instance(scenario)))
        assume(not _known(scenario, "instance", mutation.path))
        assume(not (mutation.op == "delete" and (scenario, *mutation.path) in OPTIONAL))
        _instance_case(scenario, workdir, mutation)
    elif kind == "decision":
        _decision_case(scenario, workdir, data.draw(mutations(lowest_decision(scenario))))
    elif kind == "parameter":
        key = data.draw(st.sampled_from(sorted(small_instance(scenario)["params"])))
        assume(not _known(scenario, "parameter", (key,)))
        _parameter_case(scenario, workdir, key, data.draw(st.sampled_from(NUMBERS + RETYPED)))
    else:
        solver = data.draw(st.sampled_from(fast_solvers(scenario, slow=True)))
        doc = option_set(scenario, solver) if kind == "options" else base_spec(scenario, solver)
        mutation = data.draw(mutations(doc or {"unknown_option": 1}))
        assume(not _known(scenario, kind, mutation.path, solver))
        (_option_case if kind == "options" else _spec_case)(scenario, solver, workdir, mutation)
