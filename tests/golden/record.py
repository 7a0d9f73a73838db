"""Record the objectives of the golden cases: ``python tests/golden/record.py > tests/golden/values.json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cases import CASES  # noqa: E402

from offloadlab.core.registry import get_scenario  # noqa: E402
from offloadlab.core.run import solve  # noqa: E402


def main() -> None:
    """Print one JSON object: case key -> [objective, total surplus or null]."""
    out = {}
    for scenario, overrides, solver, seed, budget, options in CASES:
        data = get_scenario(scenario).make_instance(0, "default", **overrides)
        _, _, res = solve(data, solver, seed, budget, **options)
        out[f"{scenario}/{solver}"] = [res.objective, res.details.get("total_surplus")]
        print(scenario, solver, out[f"{scenario}/{solver}"], file=sys.stderr)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
