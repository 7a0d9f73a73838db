"""Fixed cases whose objectives were recorded before the architecture move: (scenario, instance
overrides, solver, seed, budget, options). Small budgets, so the whole table runs in about a minute."""

from __future__ import annotations

from typing import Any

SAT = {"M": 2, "N": 4, "I": 2}
DT = {"N": 3, "K": 2, "slots": 20}
SAGIN = {"T": 12}

CASES: list[tuple[str, dict[str, Any], str, int, int | None, dict[str, Any]]] = [
    ("satellite-mec", SAT, "local", 0, None, {}),
    ("satellite-mec", SAT, "random", 1, 200, {}),
    ("satellite-mec", SAT, "ga", 2, 2000, {"pop_size": 40}),
    ("satellite-mec", SAT, "reference", 3, 2000, {}),
    ("satellite-mec", {"M": 2, "N": 2, "I": 2}, "exhaustive", 0, None, {}),
    ("satellite-mec", SAT, "ddpg", 4, 300, {}),
    ("satellite-mec", SAT, "llm", 5, None, {"iterations": 2, "initial_samples": 20, "llm_threads": 2}),
    ("dt-vehicular", DT, "local", 0, None, {}),
    ("dt-vehicular", DT, "random", 1, None, {}),
    ("dt-vehicular", DT, "lyapunov", 0, None, {}),
    ("dt-vehicular", DT, "marl", 2, None, {"episodes": 2, "progress": False}),
    ("dt-vehicular", DT, "sarl", 3, None, {"episodes": 2, "progress": False}),
    (
        "dt-vehicular",
        {**DT, "slots": 4},
        "llm-icl",
        4,
        None,
        {"episodes": 2, "case_episodes": 1, "progress": False, "llm_threads": 2},
    ),
    ("sagin-caching", SAGIN, "laot", 0, None, {}),
    ("sagin-caching", SAGIN, "fifo", 0, None, {}),
    ("sagin-caching", SAGIN, "lfu", 0, None, {}),
    ("sagin-caching", SAGIN, "cloud", 0, None, {}),
    ("sagin-caching", SAGIN, "spa", 0, None, {}),
    ("sagin-caching", SAGIN, "msb-myopic", 0, None, {}),
    ("sagin-caching", SAGIN, "msb-optimal", 0, None, {}),
    ("sagin-caching", SAGIN, "dqmsb", 5, 300, {"progress": False}),
]
