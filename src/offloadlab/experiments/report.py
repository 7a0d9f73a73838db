"""One self-contained HTML page from a results store: figures (embedded PNG), per-method tables with the
gap to the reference, instance parameters, paper claims vs measured, failures and software versions."""

from __future__ import annotations

import base64
import json
import math
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from offloadlab.experiments.analysis import Cell, Experiment, Record, load_experiments
from offloadlab.experiments.claims import Claim, evaluate_claims, status_line
from offloadlab.experiments.claims_table import markdown_rows, runs_text
from offloadlab.experiments.convergence import episode_returns, judge_curve
from offloadlab.experiments.runner import now_iso
from offloadlab.experiments.store import ResultsStore

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.agrees{background:#e3f4e1}.disagrees{background:#fbe3e1}.partly{background:#fff4d6}
.notmeasured{background:#eee}img{max-width:100%;border:1px solid #ddd}
.small{font-size:.8rem;color:#555}code{background:#f4f4f4;padding:0 .2rem}
"""


def _num(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if isinstance(x, (int, float)) and math.isfinite(x) else "–"


def _table(head: list[str], rows: list[list[str]], num_from: int = 1) -> str:
    """An HTML table; cells are already escaped; columns from ``num_from`` are right-aligned."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td class='num'>{c}</td>" if j >= num_from else f"<td>{c}</td>" for j, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def claims_section(claims: list[Claim]) -> str:
    """The 'paper claims vs measured' table."""
    if not claims:
        return "<p>No paper claims apply to the stored experiments.</p>"
    rows = [
        [
            escape(c.figure),
            escape(c.experiment),
            escape(c.paper),
            escape(c.measured),
            f"<b>{escape(c.verdict)}</b>",
            escape(runs_text(c)),
        ]
        for c in claims
    ]
    head = ["figure", "experiment", "paper claims", "measured", "verdict", "runs used"]
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        f"<tr class='{c.verdict.replace(' ', '')}'>" + "".join(f"<td>{x}</td>" for x in r) + "</tr>"
        for c, r in zip(claims, rows)
    )
    return f"<p>{escape(status_line(claims))}.</p><table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def method_table(exp: Experiment, cells: list[Cell]) -> str:
    """Mean, std, gap to the reference and cost per method and grid point."""
    ref = exp.reference_label
    rows = []
    for c in cells:
        gap = f"{c.gap_mean:+.1%}" if math.isfinite(c.gap_mean) else "–"
        llm = f"{c.llm_calls} / {c.llm_tokens} / {c.invalid_outputs}" if c.llm_calls else "–"
        rows.append(
            [
                escape(exp.point_label(c.point)),
                escape(c.label) + (" (reference)" if c.label == ref else ""),
                _num(c.mean),
                _num(c.std, 3),
                gap,
                f"{c.feasible}/{c.stored}/{c.planned}",
                _num(c.evaluations, 6),
                _num(c.wall_s, 3),
                llm,
            ]
        )
    unit = f" ({escape(exp.objective.unit)})" if exp.objective and exp.objective.unit else ""
    head = [
        escape(exp.point_keys_label() or "point"),
        "method",
        f"mean{unit}",
        f"std{unit}",
        f"gap to {escape(ref) if ref else 'reference'}",
        "feasible/stored/planned",
        "budget used",
        "wall (s)",
        "LLM calls / tokens / invalid",
    ]
    return _table(head, rows, num_from=2)


def params_section(exp: Experiment) -> str:
    """Instance parameters: fixed ones with their values, grid ones as 'varies (grid)'."""
    rows = [r for r in exp.stored_rows() if r.get("instance_params_json")]
    if not rows:
        return ""
    params = [json.loads(r["instance_params_json"]) for r in rows]
    keys = list(params[0])
    cells = []
    for k in keys:
        vals = {json.dumps(p.get(k)) for p in params}
        cells.append(
            [
                escape(k),
                escape(next(iter(vals)))
                if len(vals) == 1
                else "varies (grid: " + escape(", ".join(sorted(vals, key=lambda v: (len(v), v)))) + ")",
            ]
        )
    spec = exp.spec
    seeds = spec["seeds"]
    seed_txt = f"{len(seeds)} ({seeds[0]}..{seeds[-1]})" if len(seeds) > 2 else ", ".join(map(str, seeds))
    solvers = "; ".join(
        f"{escape(s.get('label') or s['name'])}: <code>{escape(s['name'])}</code>"
        + (f" budget {s['budget']}" if s.get("budget") else "")
        + (f" options {escape(json.dumps(s['options']))}" if s.get("options") else "")
        for s in spec["solvers"]
    )
    return (
        f"<p class='small'>scenario <code>{escape(spec['scenario'])}</code>, preset "
        f"<code>{escape(spec['preset'])}</code>, instance seeds {seed_txt}, repetitions {spec['repetitions']}, "
        f"default budget {spec.get('budget') or 'solver default'}.<br>Methods: {solvers}</p>"
        f"<details><summary>Instance parameters</summary>{_table(['parameter', 'value'], cells)}</details>"
    )


def _json(rec: Record, column: str) -> dict[str, Any]:
    raw = rec.data.get(column)
    return json.loads(raw) if isinstance(raw, str) and raw else {}


def learning_rows(exp: Experiment) -> list[list[str]]:
    """Each stored learning curve of the experiment with the convergence rule's verdict on it."""
    rows = []
    for rec in exp.records:
        if not rec.ok:
            continue
        curve = episode_returns(_json(rec, "stats_json"), _json(rec, "details_json"))
        if curve:
            rule = judge_curve(curve)
            where = f"{exp.point_label(rec.point)}, seed {rec.instance_seed}"
            rows.append([rec.label, where, str(len(curve)), "yes" if rule.converged else "no", rule.text()])
    return rows


def learning_section(exp: Experiment) -> str:
    """The experiment's learning curves, each judged by the convergence rule (experiments.convergence)."""
    rows = learning_rows(exp)
    if not rows:
        return ""
    head = ["method", "point", "episodes", "converged", "rule (tail trend and dip in noise sd)"]
    return "<h3>Learning curves</h3>" + _table(head, [[escape(x) for x in r] for r in rows], num_from=2)


def experiment_section(exp: Experiment) -> str:
    """Figure, table and parameters of one experiment."""
    from offloadlab.experiments import plots

    head = f"<h2 id='{escape(exp.name)}'>{escape(exp.figure or '')} — {escape(exp.title)}</h2>"
    done = sum(r.ok for r in exp.records)
    status = (
        f"<p class='small'>experiment <code>{escape(exp.name)}</code>: {done} of {len(exp.records)} runs stored.</p>"
    )
    if not done:
        return head + status
    fig = ""
    if plots.drawable(exp):
        data = base64.b64encode(plots.png_bytes(exp)).decode()
        fig = f"<img alt='{escape(exp.name)}' src='data:image/png;base64,{data}'>"
    return head + status + fig + method_table(exp, exp.cells()) + learning_section(exp) + params_section(exp)


def failures_section(experiments: list[Experiment]) -> str:
    """Runs stored with an error (they are retried by the next `offloadlab run`)."""
    rows = [
        [
            escape(e.name),
            escape(r.label),
            escape(e.point_label(r.point)),
            str(r.instance_seed),
            escape((r.row.get("error") or "").splitlines()[0]),
        ]
        for e in experiments
        for r in e.records
        if r.row is not None and not r.ok
    ]
    if not rows:
        return ""
    return "<h2>Failed runs</h2>" + _table(["experiment", "method", "point", "seed", "error"], rows, num_from=99)


def build_report(store: ResultsStore) -> str:
    """The whole HTML page."""
    exps = load_experiments(store)
    claims = evaluate_claims(exps)
    versions = Counter(r.get("version") for e in exps for r in e.stored_rows())
    toc = "".join(
        f"<li><a href='#{escape(e.name)}'>{escape(e.figure or e.name)}: {escape(e.title)}</a></li>" for e in exps
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>offloadlab report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>offloadlab results report</h1>",
        f"<p class='small'>store <code>{escape(str(store.root))}</code>, generated {escape(now_iso())}; software "
        + escape(", ".join(f"{v} ({n} runs)" for v, n in versions.items()))
        + "</p>",
        f"<ul>{toc}</ul>",
        "<h2>Paper claims vs measured</h2>",
        claims_section(claims),
        *[experiment_section(e) for e in exps],
        failures_section(exps),
        "<p class='small'>Means and standard deviations (sample, ddof = 1) are over instance seeds and "
        "repetitions, feasible runs only; the gap is the mean of objective / reference − 1 over runs whose "
        "instance also has a feasible reference run.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def markdown_report(store: ResultsStore) -> str:
    """The claims and per-method tables as Markdown (for documentation pages)."""
    exps = load_experiments(store)
    lines = markdown_rows(evaluate_claims(exps))
    for exp in exps:
        if not any(r.ok for r in exp.records):
            continue
        ref = exp.reference_label or "reference"
        unit = f" ({exp.objective.unit})" if exp.objective and exp.objective.unit else ""
        lines += [
            "",
            f"**{exp.figure or exp.name}: {exp.title}** (`{exp.name}`)",
            "",
            f"| {exp.point_keys_label() or 'point'} | method | mean{unit} | std{unit} | gap to {ref} | "
            "feasible/stored/planned | wall (s) |",
            "|---|---|---|---|---|---|---|",
        ]
        for c in exp.cells():
            gap = f"{c.gap_mean:+.1%}" if math.isfinite(c.gap_mean) else "–"
            lines.append(
                f"| {exp.point_label(c.point)} | {c.label} | {_num(c.mean)} | {_num(c.std, 3)} | {gap} | "
                f"{c.feasible}/{c.stored}/{c.planned} | {_num(c.wall_s, 3)} |"
            )
        if learned := learning_rows(exp):
            lines += ["", "| method | point | episodes | converged | rule |", "|---|---|---|---|---|"]
            lines += ["| " + " | ".join(r) + " |" for r in learned]
    return "\n".join(lines) + "\n"


def save_claims(store: ResultsStore) -> dict[str, str]:
    """Recompute the claims of the store's experiments and merge them into each paper's saved claims table
    (papers/<id>/claims.json); returns each saved paper's status line."""
    from offloadlab.core.registry import get_paper
    from offloadlab.experiments.claims_table import save_table

    exps = [e for e in load_experiments(store) if any(r.ok for r in e.records)]
    out = {}
    for scenario in dict.fromkeys(e.scenario for e in exps):
        paper = get_paper(scenario)
        claims = paper.check_claims([e for e in exps if e.scenario == scenario])
        if claims:
            out[scenario] = status_line(save_table(paper.claims_file, scenario, claims, str(store.root)))
    return out


def write_report(store: ResultsStore, out: str | Path) -> Path:
    """Write the report: Markdown when the file name ends in .md, else the HTML page."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = markdown_report(store) if path.suffix == ".md" else build_report(store)
    path.write_text(text, encoding="utf-8")
    return path
