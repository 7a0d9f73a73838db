"""Command line of adaptive modeling.

    python -m offloadlab.methods.leo_inference.adaptive measure -o kb.json [--warmup 1 --measure 5]
    python -m offloadlab.methods.leo_inference.adaptive reproduce -o OUTDIR [--kb kb.json]

``measure`` times every operator of the search space on this machine (torch, one thread) into a
knowledge base; ``reproduce`` trains the digits supernet, reproduces Tables II-III, draws Fig. 6 and the
tables figure, and prints the claims rows and the measured numbers as Markdown.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from offloadlab.methods.leo_inference.adaptive.knowledge_base import KnowledgeBase, Protocol, measure_knowledge_base
from offloadlab.methods.leo_inference.adaptive.operators import OpSpec, space_ops
from offloadlab.methods.leo_inference.adaptive.space import DEPLOY, SearchSpace


def _measure(args: argparse.Namespace) -> None:
    specs = space_ops(SearchSpace(), DEPLOY)

    def progress(i: int, spec: OpSpec, sec: float) -> None:
        print(f"{i + 1}/{len(specs)} {spec.key} {sec * 1e3:.4f} ms", file=sys.stderr, flush=True)

    kb = measure_knowledge_base(specs, Protocol(args.warmup, args.measure), progress)
    kb.save(args.output)


def _reproduce(args: argparse.Namespace) -> None:
    from offloadlab.methods.leo_inference.adaptive.report import reproduce  # torch training: import on demand

    kb = KnowledgeBase.load(args.kb) if args.kb else None
    summary = reproduce(args.output, kb=kb, seed=args.seed, retrain_epochs=args.retrain_epochs)
    print(json.dumps(summary, indent=1))


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m offloadlab.methods.leo_inference.adaptive")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="measure the host knowledge base")
    m.add_argument("-o", "--output", type=Path, required=True)
    m.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per operator (paper: 1)")
    m.add_argument("--measure", type=float, default=5.0, help="measurement seconds per operator (paper: 5)")
    m.set_defaults(fn=_measure)
    r = sub.add_parser("reproduce", help="Tables II-III, Fig. 6, claims")
    r.add_argument("-o", "--output", type=Path, required=True)
    r.add_argument("--kb", type=Path, default=None, help="knowledge base JSON (default: the shipped one)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--retrain-epochs", type=int, default=3, help="stand-alone retraining of winners (0: skip)")
    r.set_defaults(fn=_reproduce)
    args = parser.parse_args(argv)
    args.fn(args)


if __name__ == "__main__":
    main()
