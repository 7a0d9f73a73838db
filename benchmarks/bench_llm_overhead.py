"""Overhead of the LLM layer per call (prompt rendering, schema and grammar build, constraint masks,
parsing, validation, repair) as a fraction of the backend's own time per call.

Run: .venv/bin/python benchmarks/bench_llm_overhead.py [--recording FILE --instance FILE]
Defaults to the committed recording of a real embedded run (tests/llm/fixtures/opro_354.*); backend
time per call is the mean latency recorded there.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from offloadlab.core.io import read_json
from offloadlab.core.registry import get_scenario
from offloadlab.core.result import Tracker
from offloadlab.llm.embedded import SchemaConstraint, _load, resolve_model
from offloadlab.llm.structured import InvalidAnswer, answer_schema, check_answer, parse_json
from offloadlab.llm.templates import PromptBook
from offloadlab.solvers.llm_opro import Optimizer, Settings

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "llm" / "fixtures"


def per_call(fn, repeats: int) -> float:
    """Mean seconds of one call of ``fn``."""
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    """Measure and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--recording", default=str(FIXTURES / "opro_354.replay.jsonl"))
    ap.add_argument("--instance", default=str(FIXTURES / "opro_354.instance.json"))
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()

    data = read_json(args.instance, "instance")
    problem = get_scenario(data["scenario"])
    inst = problem.load_instance(data)
    space = problem.decision_space(inst)
    calls = [json.loads(line) for line in Path(args.recording).read_text().splitlines() if line.strip()]
    texts = [c["reply"]["text"] for c in calls]
    backend_s = float(np.mean([c["reply"]["seconds"] for c in calls]))
    completion = float(np.mean([c["reply"]["completion_tokens"] for c in calls]))

    opt = Optimizer(
        problem,
        inst,
        None,
        PromptBook(problem.manifest.prompt_dir, "expert"),
        Settings(),
        np.random.default_rng(0),
        Tracker(None),
    )
    opt.initialise()

    def validate_all() -> None:
        for text in texts:
            try:
                check_answer(problem, inst, space, parse_json(text))
            except InvalidAnswer:
                pass

    path, chat_format = resolve_model(None)
    llm, tokenizer = _load(str(path), chat_format, 1)
    schema = answer_schema(space)
    token_lists = [llm.tokenize(t.encode(), add_bos=False, special=False) for t in texts]
    n_tokens = sum(len(t) for t in token_lists)

    def masks_per_answer() -> float:
        """Seconds of constraint work (consume a token, compute and apply the mask) per recorded answer."""
        procs = [SchemaConstraint(tokenizer, schema) for _ in token_lists]
        scores = np.zeros(llm.n_vocab(), dtype=np.single)
        t0 = time.perf_counter()
        for proc, toks in zip(procs, token_lists):
            ids = np.array([1], dtype=np.intc)
            for tok in [*toks, None]:
                proc(ids, scores)
                if tok is not None:
                    ids = np.append(ids, tok)
        return (time.perf_counter() - t0) / len(token_lists)

    batch = {k: v[None] for k, v in opt.pool.best.decision.items()}
    rows = {
        "render prompt": per_call(lambda: opt.messages("expert", 0.5), args.repeats),
        "schema (JSON Schema)": per_call(lambda: answer_schema(space), args.repeats),
        "grammar compile (llguidance)": per_call(lambda: SchemaConstraint(tokenizer, schema), args.repeats),
        f"token masks ({n_tokens / len(texts):.0f} tokens/answer)": masks_per_answer(),
        "parse + validate + repair": per_call(validate_all, args.repeats) / len(texts),
        "repair alone": per_call(lambda: problem.repair(inst, batch), args.repeats),
    }
    print(
        f"backend time per call (recorded, {len(calls)} calls, {completion:.0f} completion tokens): {backend_s:.2f} s"
    )
    print(f"{'step':32} {'ms/call':>9} {'% of backend':>13}")
    for name, sec in rows.items():
        print(f"{name:32} {sec * 1e3:9.3f} {100 * sec / backend_s:13.3f}")
    layer = sum(v for k, v in rows.items() if k != "repair alone")
    print(f"{'LLM layer total':32} {layer * 1e3:9.3f} {100 * layer / backend_s:13.3f}")


if __name__ == "__main__":
    main()
