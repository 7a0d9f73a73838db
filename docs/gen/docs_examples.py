"""Example instance and decision files of every scenario (``docs/examples/``), shown on the contracts page
with the evaluation the code gives them; a test checks that each still loads, validates and evaluates.

Rewrite them after a contract change (run from the repository root):
    PYTHONPATH=src .venv/bin/python docs/gen/docs_examples.py --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "docs" / "examples"
# Per scenario: instance overrides (small enough to read) and the solver whose decision is shown. A
# scenario not listed uses its manifest's small instance and its first solver.
EXAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "satellite-mec": ({"M": 2, "N": 3, "I": 2}, "reference"),
    "sagin-caching": ({"T": 4}, "laot"),
    "mec-queues": ({"devices": 2, "servers": 2, "slots": 4}, "greedy-oracle"),
    "leo-inference": ({"satellites": 3, "hours": 0.15, "arrivals": "light"}, "leoedge"),
    "dt-vehicular": ({"N": 2, "K": 2, "slots": 3}, "lyapunov"),
}
LONG = 6  # lists longer than this are shortened on the page (the files hold them whole)


def paths(scenario: str) -> tuple[Path, Path]:
    """The example instance and decision files of a scenario."""
    return EXAMPLES_DIR / f"{scenario}.instance.json", EXAMPLES_DIR / f"{scenario}.decision.json"


def write_examples() -> list[Path]:
    """Generate every registered scenario's example files from the code."""
    from offloadlab.core.registry import get_scenario, scenarios, solvers_for
    from offloadlab.core.run import solve

    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for sc in scenarios():
        problem = get_scenario(sc)
        overrides, solver = EXAMPLES.get(sc, (dict(problem.manifest.small), next(iter(solvers_for(sc)))))
        data = problem.make_instance(0, "default", **overrides)
        _, _, result = solve(data, solver, 0, None)
        inst_path, dec_path = paths(sc)
        inst_path.write_text(json.dumps(data) + "\n")
        dec_path.write_text(json.dumps(result.to_json()["decision"]) + "\n")
        written += [inst_path, dec_path]
    return written


def evaluate_example(scenario: str) -> tuple[Any, Any, dict[str, Any]]:
    """Load a scenario's example files through the code: (instance data, decision data, evaluation report)."""
    from offloadlab.core.registry import get_scenario

    problem = get_scenario(scenario)
    inst_path, dec_path = paths(scenario)
    data = json.loads(inst_path.read_text())
    decision_data = json.loads(dec_path.read_text())
    inst = problem.load_instance(data)
    decision = problem.decision_space(inst).validate(decision_data)
    report = problem.evaluate(inst, {k: v[None] for k, v in decision.items()}).report(0)
    return data, decision_data, report


def shorten(value: Any) -> Any:
    """The value with long lists cut to their first elements and a note of how many there are."""
    if isinstance(value, dict):
        return {k: shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        head = [shorten(v) for v in value[:LONG]]
        return head + [f"... {len(value)} in all"] if len(value) > LONG else head
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def compact_json(value: Any, indent: int = 0) -> str:
    """JSON with an object's keys one per line and a list of scalars (or of such lists) kept on one line."""
    pad = " " * (indent + 2)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(k)}: {compact_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        items = [pad + compact_json(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
    return json.dumps(value)


def _json_block(value: Any) -> str:
    return f"```json\n{compact_json(shorten(value))}\n```"


def examples_section() -> str:
    """The contracts page's examples: per scenario the instance, a decision and what ``evaluate`` returns."""
    from docs_models import log

    from offloadlab.core.registry import scenarios

    parts = ["## Examples", ""]
    parts.append(
        "Each scenario's example files are in `docs/examples/` (lists are shortened here, whole in the files). "
        "The evaluation below is computed by the code when this page is built, and `tests/test_docs.py` "
        "loads, validates and evaluates every example, so a contract change that the files do not follow "
        "fails the tests. `offloadlab evaluate INSTANCE DECISION` prints the same evaluation."
    )
    for sc in scenarios():
        inst_path, dec_path = paths(sc)
        if not inst_path.exists() or not dec_path.exists():
            log.warning("scenario %s has no example files in docs/examples (docs_examples.py --write)", sc)
            continue
        data, decision, report = evaluate_example(sc)
        parts += [
            "",
            f"### {sc} example",
            "",
            f"Instance [`{inst_path.name}`](examples/{inst_path.name}):",
            "",
            _json_block(data),
            "",
            f"Decision [`{dec_path.name}`](examples/{dec_path.name}):",
            "",
            _json_block(decision),
            "",
            f"`offloadlab evaluate {inst_path.name} {dec_path.name}`:",
            "",
            _json_block(report),
        ]
    return "\n".join(parts) + "\n"


def main() -> None:
    """Rewrite the example files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/examples/*.json from the code")
    if parser.parse_args().write:
        for path in write_examples():
            print(path.relative_to(ROOT))
    else:
        parser.print_help()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
