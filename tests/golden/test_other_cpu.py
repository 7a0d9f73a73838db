"""The golden tolerance of torch-trained solvers survives a change of CPU, and still sees a changed method.

"Another CPU" is simulated by forcing torch onto its generic (non-vectorised) kernels and oneDNN/MKL onto
SSE code, the kernel paths an older or different processor takes: the trained objectives then differ from
the recorded ones in their last bits, and must stay within ``TRAINED_REL``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from offloadlab.core.registry import get_scenario
from offloadlab.core.run import solve
from tests.golden.cases import CASES, TRAINED_REL, tolerance
from tests.golden.test_golden import VALUES

ROOT = Path(__file__).resolve().parents[2]
OTHER_CPU = {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "SSE41"}
FAST_TRAINED = ("marl", "sarl")  # seconds each; the two that differed between machines
SCRIPT = """
import json, sys
from offloadlab.core.registry import get_scenario
from offloadlab.core.run import solve
from tests.golden.cases import CASES
out = {}
for scenario, overrides, solver, seed, budget, options in CASES:
    if solver in sys.argv[1:]:
        data = get_scenario(scenario).make_instance(0, "default", **overrides)
        out[solver] = solve(data, solver, seed, budget, **options)[2].objective
print(json.dumps(out))
"""


def _case(solver: str) -> tuple:
    return next(c for c in CASES if c[2] == solver)


def test_trained_objectives_hold_on_other_cpu_kernels():
    env = {**os.environ, **OTHER_CPU, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, *FAST_TRAINED], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    for solver in FAST_TRAINED:
        scenario = _case(solver)[0]
        assert got[solver] == pytest.approx(VALUES[f"{scenario}/{solver}"][0], rel=tolerance(solver))


@pytest.mark.parametrize("solver", FAST_TRAINED)
def test_tolerance_still_sees_another_seed(solver):
    scenario, overrides, _, seed, budget, options = _case(solver)
    data = get_scenario(scenario).make_instance(0, "default", **overrides)
    objective = solve(data, solver, seed + 1, budget, **options)[2].objective
    assert objective != pytest.approx(VALUES[f"{scenario}/{solver}"][0], rel=TRAINED_REL)
