"""The one entry point: ``offloadlab <command>`` (also ``python -m offloadlab``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from offloadlab.core.errors import InputError, OffloadlabError
from offloadlab.core.io import dumps, read_json, write_json

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Task-offloading models, solvers and paper figures for edge and satellite computing.")
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}


def parse_extra(args: list[str], what: str) -> dict[str, Any]:
    """Turn ``--key value`` / ``--flag`` pairs into a dict; values parsed as JSON when possible."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        tok = args[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise InputError(what, f"unexpected argument '{tok}' (expected --name value)")
        key = tok[2:]
        if "=" in key:
            key, raw = key.split("=", 1)
            i += 1
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            raw = args[i + 1]
            i += 2
        else:
            raw = "true"
            i += 1
        out[key.replace("-", "_")] = _parse_value(raw)
    return out


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def emit(obj: Any, table: bool, title: str = "") -> None:
    """Print JSON to stdout, or a human table with --table."""
    if not table:
        typer.echo(dumps(obj))
        return
    from offloadlab.report_table import print_table

    print_table(obj, title)


@app.command("list")
def list_cmd() -> None:
    """List scenarios and the solvers available for each."""
    from offloadlab.core.registry import scenarios, solvers_for

    out = {sc: {n: s.description for n, s in sorted(solvers_for(sc).items())} for sc in scenarios()}
    typer.echo(json.dumps(out, indent=2))


@app.command(context_settings=EXTRA)
def instance(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="scenario id (see `offloadlab list`)"),
    seed: int = typer.Option(0, help="random seed of the instance"),
    preset: str = typer.Option("default", help="parameter preset (the scenario's manifest lists them)"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="write the instance JSON here"),
) -> None:
    """Generate an instance; any further --name value pairs override parameters (e.g. --N 10)."""
    from offloadlab.core.registry import get_scenario

    if seed < 0:
        raise InputError("seed", f"value {seed} outside the allowed range [0, inf)")
    overrides = parse_extra(ctx.args, "parameter")
    data = get_scenario(scenario).make_instance(seed, preset, **overrides)
    if output:
        write_json(output, data)
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(dumps(data))


@app.command()
def evaluate(
    instance_file: Path = typer.Argument(..., help="instance JSON"),
    decision_file: Path = typer.Argument(..., help="decision JSON"),
    table: bool = typer.Option(False, "--table", help="print a human-readable table instead of JSON"),
) -> None:
    """Evaluate one decision on an instance: feasibility, violations and the objective's terms."""
    from offloadlab.core.registry import get_scenario

    data = read_json(instance_file, "instance")
    problem = get_scenario(_scenario_of(data))
    inst = problem.load_instance(data)
    decision = problem.decision_space(inst).validate(read_json(decision_file, "decision"))
    ev = problem.evaluate(inst, {k: v[None] for k, v in decision.items()})
    emit(ev.report(0), table, "evaluation")


@app.command(context_settings=EXTRA)
def solve(
    ctx: typer.Context,
    instance_file: Path = typer.Argument(..., help="instance JSON"),
    solver: str = typer.Option(..., "--solver", help="solver name (see `offloadlab list`)"),
    seed: int = typer.Option(0, help="random seed of the solver"),
    budget: Optional[int] = typer.Option(None, help="evaluation budget"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="also write the decision JSON here"),
    history: bool = typer.Option(False, "--history", help="include the convergence history"),
    table: bool = typer.Option(False, "--table", help="print a human-readable table instead of JSON"),
) -> None:
    """Solve an instance; further --name value pairs are solver options (e.g. --restarts 4)."""
    from offloadlab.core.run import solve as run_solve

    data = read_json(instance_file, "instance")
    options = parse_extra(ctx.args, "solver option")
    _, _, result = run_solve(data, solver, seed, budget, **options)
    out = {**result.to_json()["decision"], **result.to_json()["details"],
           "objective": result.to_json()["objective"], "feasible": result.feasible,
           "solver": solver, "seed": seed, "stats": result.to_json()["stats"]}
    if history:
        out["history"] = result.to_json()["history"]
    if output:
        write_json(output, result.to_json()["decision"])
    emit(out, table, f"{solver} on {instance_file}")


@app.command("run")
def run_cmd(
    spec: Path = typer.Argument(..., help="experiment spec (YAML); each paper keeps its own under papers/<id>/specs/"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="parallel worker processes (or Ray CPUs)"),
    out: Path = typer.Option(Path("results"), "--out", help="results store directory"),
    executor: str = typer.Option("local", help="local (worker processes) | ray"),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (with --executor ray)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress output"),
    skip_unregistered: bool = typer.Option(False, "--skip-unregistered",
                                           help="leave out spec entries whose solver is not installed"),
    redo: list[str] = typer.Option([], "--redo", help="run this solver's runs again even if stored (repeatable)"),
    only: list[str] = typer.Option([], "--only", help="run only this solver's runs now (repeatable)"),
) -> None:
    """Run an experiment spec; stored runs are skipped, so rerunning resumes an interrupted sweep."""
    from offloadlab.experiments.runner import make_executor, run_sweep, summary_lines
    from offloadlab.experiments.spec import load_spec

    parsed = load_spec(spec, skip_unregistered=skip_unregistered)
    left_out = sorted({s.name for s in load_spec(spec, check=False).solvers} - {s.name for s in parsed.solvers})
    if left_out:
        typer.echo(f"not registered, left out: {', '.join(left_out)}", err=True)
    summary = run_sweep(parsed, out, make_executor(executor, jobs, ray_address), str(spec),
                        show_progress=not quiet, redo=tuple(redo), only=tuple(only))
    for line in summary_lines(summary):
        typer.echo(line, err=True)
    if not summary.complete:
        raise typer.Exit(130 if summary.interrupted and not summary.errors else 1)


@app.command("plot")
def plot_cmd(
    results: Path = typer.Argument(..., help="results store directory (from `offloadlab run --out`)"),
    figure: Optional[str] = typer.Option(None, "--figure", help="paper figure, e.g. fig3 | fig4 | fig5"),
    experiment: Optional[str] = typer.Option(None, "--experiment", help="experiment name (instead of --figure)"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="folder for PNG and PDF (default RESULTS/figures)"),
) -> None:
    """Draw a stored experiment as the paper's figure (PNG and PDF)."""
    from offloadlab.experiments import plots
    from offloadlab.experiments.analysis import find_experiment, open_store

    if not figure and not experiment:
        raise InputError("figure", "give --figure (e.g. fig4) or --experiment NAME")
    exp = find_experiment(open_store(results), figure=figure, name=experiment)
    for path in plots.save(exp, output or results / "figures"):
        typer.echo(str(path))


@app.command("report")
def report_cmd(
    results: Path = typer.Argument(..., help="results store directory"),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="HTML file (default RESULTS/report.html)"),
) -> None:
    """Write one self-contained HTML page: figures, tables, gaps to the reference, paper claims vs measured."""
    from offloadlab.experiments.analysis import open_store
    from offloadlab.experiments.report import write_report

    typer.echo(str(write_report(open_store(results), output or results / "report.html")))


@app.command("reproduce")
def reproduce_cmd(
    scenario: Optional[str] = typer.Argument(None, help="scenario whose paper to reproduce (see --list)"),
    list_papers: bool = typer.Option(False, "--list", help="list the papers that can be reproduced"),
    quick: bool = typer.Option(False, "--quick", help="the paper's reduced specs (few seeds, small budgets), minutes"),
    jobs: int = typer.Option(2, "--jobs", "-j", help="parallel worker processes"),
    out: Optional[Path] = typer.Option(None, "--out", help="results folder (default results/SCENARIO[-quick])"),
    executor: str = typer.Option("local", help="local (worker processes) | ray"),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (with --executor ray)"),
) -> None:
    """Run a paper's figure specs, then write figures and report.html with the paper claims vs measured."""
    from offloadlab.core.registry import papers
    from offloadlab.experiments.reproduce import reproduce
    from offloadlab.experiments.runner import make_executor, summary_lines

    if list_papers or scenario is None:
        for sid, paper in papers().items():
            quick_note = "--quick available" if paper.quick_specs else "no --quick"
            typer.echo(f"{sid}: {paper.title} [{len(paper.specs)} specs, {quick_note}] — {paper.status}")
        if scenario is None and not list_papers:
            raise InputError("scenario", "give a paper to reproduce (listed above)")
        return

    out = out or Path("results") / (scenario + ("-quick" if quick else ""))
    rep = reproduce(scenario, quick, out, make_executor(executor, jobs, ray_address))
    for summary in rep.summaries:
        for line in summary_lines(summary):
            typer.echo(line, err=True)
    typer.echo(f"results store: {rep.out}")
    for path in rep.figures:
        typer.echo(f"figure: {path}")
    typer.echo(f"report: {rep.report}")
    if not all(s.complete for s in rep.summaries):
        raise typer.Exit(1)


def _scenario_of(data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), str):
        raise InputError("instance.scenario", "missing: the instance must name its scenario")
    return data["scenario"]


def main() -> None:
    """Console entry point: user errors become one line on stderr and exit code 2."""
    try:
        app()
    except OffloadlabError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
