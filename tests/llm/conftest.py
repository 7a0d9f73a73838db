"""Fixtures of the LLM-layer tests: a small instance, a scripted in-process backend, a guarded problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from offloadlab.llm import Reply, Request
from offloadlab.scenarios.satellite_mec.model import generate_instance, make_params
from offloadlab.scenarios.satellite_mec.problem import SatelliteMecProblem


@pytest.fixture(autouse=True)
def private_mode_cache(tmp_path, monkeypatch):
    """Each test starts with no structured-output mode remembered, in the process or on disk."""
    from offloadlab.llm import openai_backend

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(openai_backend, "_MODES", {})


@pytest.fixture
def inst354():
    """A calibrated (3, 5, 4) satellite-mec instance."""
    return generate_instance(make_params("default", M=3, N=5, I=4), seed=1)


def answer(offload: Any, power: Any) -> str:
    """An answer text holding a decision."""
    return json.dumps({"offload": np.asarray(offload).tolist(), "power_w": np.asarray(power).tolist()})


def targets(target: Any, power: Any) -> str:
    """An answer text in the per-terminal format (target 0 = local, m = satellite m; power in integer mW)."""
    return json.dumps({"target": list(target), "power_mw": np.rint(np.asarray(power) * 1000).astype(int).tolist()})


def one_offloaded(inst: Any, terminal: int = 0, satellite: int = 1, watts: float = 0.1) -> tuple[list, list]:
    """A decision where one terminal offloads on sub-channel 0 and the rest compute locally."""
    p = inst.params
    offload = np.zeros((p.M, p.N), dtype=int)
    power = np.zeros((p.N, p.I))
    offload[satellite, terminal] = 1
    power[terminal, 0] = watts
    return offload.tolist(), power.tolist()


class ScriptedBackend:
    """Answers with the next scripted text (or the result of a callable on the request); keeps the requests."""

    name = "scripted"
    model = "script"

    def __init__(self, script: list[str | Callable[[Request], str]]):
        self.script = list(script)
        self.requests: list[Request] = []

    def complete(self, request: Request, timeout_s: float) -> Reply:
        self.requests.append(request)
        item = self.script.pop(0) if self.script else "{}"
        text = item(request) if callable(item) else item
        return Reply(text, 100, 20, 0.01, self.model, "stop")


def assert_well_formed(instance: Any, decisions: Any) -> None:
    """Fail the test if a batch of decisions handed to evaluate() is malformed in any way."""
    p = instance.params
    a, pw = np.asarray(decisions["offload"]), np.asarray(decisions["power_w"])
    assert a.shape[1:] == (p.M, p.N) and pw.shape[1:] == (p.N, p.I), "malformed shape evaluated"
    assert np.isin(a, (0, 1)).all() and (a.sum(axis=1) <= 1).all(), "malformed offload evaluated"
    assert (pw >= 0).all() and (pw.sum(axis=2) <= p.p_max_w * (1 + 1e-9)).all(), "malformed power evaluated"


class GuardedProblem(SatelliteMecProblem):
    """satellite-mec whose evaluate fails the test on any malformed decision it is handed."""

    def __init__(self):
        self.evaluated = 0

    def evaluate(self, instance, decisions):
        assert_well_formed(instance, decisions)
        self.evaluated += len(np.asarray(decisions["offload"]))
        return super().evaluate(instance, decisions)


@pytest.fixture
def guarded_registry_problem(monkeypatch):
    """The registered satellite-mec problem, with evaluate guarded as in GuardedProblem; yields a call log."""
    from offloadlab.scenarios.satellite_mec.problem import PROBLEM

    calls = []
    inner = PROBLEM.evaluate

    def evaluate(instance, decisions):
        assert_well_formed(instance, decisions)
        calls.append(len(np.asarray(decisions["offload"])))
        return inner(instance, decisions)

    monkeypatch.setattr(PROBLEM, "evaluate", evaluate)
    return calls
