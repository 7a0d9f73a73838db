"""The one entry point: ``offloadlab <command>`` (also ``python -m offloadlab``)."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

try:  # typer >= 0.20 vendors click; its command-line errors are typer._click's, not click's
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from offloadlab.core.config import check_seed
from offloadlab.core.errors import InputError, OffloadlabError
from offloadlab.core.io import (
    check_depth,
    dumps,
    loads,
    output_dir,
    output_file,
    read_data,
    read_json,
    shown,
    write_data,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Task-offloading models, solvers and paper figures for edge and satellite computing.",
)
EXTRA = {"allow_extra_args": True, "ignore_unknown_options": True}
TRAIN_ARGS = "offloadlab.train.args"
PRINT_LIMIT = 100_000  # numbers: a larger decision field or detail goes to -o only, not to stdout


@app.callback()
def _global_options(
    max_memory: str | None = typer.Option(
        None, "--max-memory", help="memory an instance or solver may plan to use, e.g. 4GiB (default: half the RAM)"
    ),
) -> None:
    """Task-offloading models, solvers and paper figures for edge and satellite computing."""
    from offloadlab.core.resources import MEMORY_ENV, parse_size

    if max_memory is not None:
        parse_size(max_memory, "--max-memory")
        os.environ[MEMORY_ENV] = max_memory  # worker processes of `run --jobs` inherit it


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
        key = key.replace("-", "_")
        out[key] = _parse_value(raw, f"{what} {key}")
    return out


class _NotANumber(ValueError):
    """A NaN/Infinity literal: the argument is kept as text (and then rejected as not a number)."""


def _constant(token: str) -> Any:
    raise _NotANumber(token)


def _parse_value(raw: str, field: str) -> Any:
    """The argument as JSON when it is JSON (finite numbers, bounded nesting), else the text itself."""
    try:
        return check_depth(json.loads(raw, parse_constant=_constant, parse_float=_float_or_overflow), field)
    except (json.JSONDecodeError, _NotANumber):
        return raw
    except (OverflowError, RecursionError, ValueError):  # loads names what is wrong in one line
        return loads(raw, field)


def _float_or_overflow(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise OverflowError(token)
    return value


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


@app.command("solvers")
def solvers_cmd(
    scenario: str = typer.Argument(..., help="scenario id (see `offloadlab list`)"),
    solver: str | None = typer.Option(None, "--solver", help="only this solver"),
) -> None:
    """List each solver of a scenario with its options: type, bounds, default and meaning."""
    from offloadlab.options_listing import listing

    typer.echo(listing(scenario, solver), nl=False)


@app.command(context_settings=EXTRA)
def instance(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="scenario id (see `offloadlab list`)"),
    seed: int = typer.Option(0, help="random seed of the instance"),
    preset: str = typer.Option("default", help="parameter preset (the scenario's manifest lists them)"),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="write the instance here (JSON, or named arrays for a .npz name)"
    ),
) -> None:
    """Generate an instance; any further --name value pairs override parameters (e.g. --N 10)."""
    from offloadlab.core.registry import get_scenario

    check_seed(seed)
    overrides = parse_extra(ctx.args, "parameter")
    if output:
        output_file(output, "output")
    data = get_scenario(scenario).make_instance(seed, preset, **overrides)
    if output:
        write_data(output, data)
        typer.echo(f"wrote {output}", err=True)
    else:
        typer.echo(dumps(data))


@app.command()
def evaluate(
    instance_file: Path = typer.Argument(..., help="instance JSON (or .npz)"),
    decision_file: Path = typer.Argument(..., help="decision JSON (or .npz)"),
    table: bool = typer.Option(False, "--table", help="print a human-readable table instead of JSON"),
) -> None:
    """Evaluate one decision on an instance: feasibility, violations and the objective's terms."""
    from offloadlab.core.registry import get_scenario

    data = read_data(instance_file, "instance")
    problem = get_scenario(_scenario_of(data))
    inst = problem.load_instance(data)
    decision = problem.decision_space(inst).validate(read_data(decision_file, "decision"))
    ev = problem.evaluate(inst, {k: v[None] for k, v in decision.items()})
    emit(ev.report(0), table, "evaluation")


@app.command(context_settings=EXTRA)
def solve(
    ctx: typer.Context,
    instance_file: Path = typer.Argument(..., help="instance JSON (or .npz)"),
    solver: str = typer.Option(..., "--solver", help="solver name (see `offloadlab list`)"),
    seed: int = typer.Option(0, help="random seed of the solver"),
    budget: int | None = typer.Option(None, help="evaluation budget"),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="also write the decision here (JSON, or arrays for a .npz name)"
    ),
    history: bool = typer.Option(False, "--history", help="include the convergence history"),
    table: bool = typer.Option(False, "--table", help="print a human-readable table instead of JSON"),
) -> None:
    """Solve an instance; further --name value pairs are solver options (e.g. --restarts 4; each solver's
    options: `offloadlab solvers SCENARIO --solver NAME`)."""
    from dataclasses import replace

    from offloadlab.core.io import scratch_logdir
    from offloadlab.core.run import solve as run_solve
    from offloadlab.experiments.spec import MAX_BUDGET

    check_seed(seed)
    if budget is not None and not 1 <= budget <= MAX_BUDGET:
        raise InputError("budget", f"value {budget} outside the allowed range [1, {MAX_BUDGET}]")
    data = read_data(instance_file, "instance")
    options = parse_extra(ctx.args, "option")
    if output:
        output_file(output, "output")
    with scratch_logdir():
        _, _, result = run_solve(data, solver, seed, budget, **options)
    if output:
        write_data(output, result.decision)
    # a decision or detail of more than PRINT_LIMIT numbers is only written to -o, not printed
    big = {k for k, v in {**result.decision, **result.details}.items() if _numbers(v) > PRINT_LIMIT}
    res = replace(result, decision=_without(result.decision, big), details=_without(result.details, big)).to_json()
    out = {
        **res["decision"],
        **res["details"],
        "objective": res["objective"],
        "feasible": result.feasible,
        "solver": solver,
        "seed": seed,
        "stats": res["stats"],
    }
    if big:
        out["not_printed"] = sorted(big)
    if history:
        out["history"] = res["history"]
    emit(out, table, f"{solver} on {instance_file}")


def _numbers(value: Any) -> int:
    """How many numbers a decision or detail field holds (arrays, nested and ragged lists, scalars)."""
    if hasattr(value, "ndim"):  # a numpy array (numpy is imported only by the commands that need it)
        return int(value.size)
    if isinstance(value, list | tuple):
        return sum(_numbers(v) for v in value)
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    return 1


def _without(fields: dict[str, Any], names: set[str]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in names}


@app.command("run")
def run_cmd(
    spec: Path = typer.Argument(..., help="experiment spec (YAML); each paper keeps its own under papers/<id>/specs/"),
    jobs: int = typer.Option(1, "--jobs", "-j", help="parallel worker processes (or Ray CPUs)"),
    out: Path = typer.Option(Path("results"), "--out", help="results store directory"),
    executor: str = typer.Option("local", help="local (worker processes) | ray"),
    ray_address: str | None = typer.Option(None, help="Ray cluster address (with --executor ray)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress output"),
    skip_unregistered: bool = typer.Option(
        False, "--skip-unregistered", help="leave out spec entries whose solver is not installed"
    ),
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
    summary = run_sweep(
        parsed,
        out,
        make_executor(executor, jobs, ray_address),
        str(spec),
        show_progress=not quiet,
        redo=tuple(redo),
        only=tuple(only),
    )
    for line in summary_lines(summary):
        typer.echo(line, err=True)
    if not summary.complete:
        raise typer.Exit(130 if summary.interrupted and not summary.errors else 1)


@app.command("plot")
def plot_cmd(
    results: Path = typer.Argument(..., help="results store directory (from `offloadlab run --out`)"),
    figure: str | None = typer.Option(None, "--figure", help="paper figure, e.g. fig3 | fig4 | fig5"),
    experiment: str | None = typer.Option(None, "--experiment", help="experiment name (instead of --figure)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="folder for PNG and PDF (default RESULTS/figures)"),
) -> None:
    """Draw a stored experiment as the paper's figure (PNG and PDF)."""
    from offloadlab.experiments import plots
    from offloadlab.experiments.analysis import find_experiment, open_store

    if not figure and not experiment:
        raise InputError("figure", "give --figure (e.g. fig4) or --experiment NAME")
    exp = find_experiment(open_store(results), figure=figure, name=experiment)
    for path in plots.save(exp, output_dir(output or results / "figures", "output")):
        typer.echo(str(path))


@app.command("report")
def report_cmd(
    results: Path = typer.Argument(..., help="results store directory"),
    output: Path | None = typer.Option(None, "-o", "--output", help="HTML file (default RESULTS/report.html)"),
    save_claims: bool = typer.Option(
        False, "--save-claims", help="also merge the claims into each paper's saved table (papers/<id>/claims.json)"
    ),
    docs: Path | None = typer.Option(None, "--docs", help="then regenerate the claims blocks of the pages in DOCS"),
) -> None:
    """Write one self-contained HTML page: figures, tables, gaps to the reference, paper claims vs measured."""
    from offloadlab.experiments.analysis import open_store
    from offloadlab.experiments.report import save_claims as save
    from offloadlab.experiments.report import write_report

    store = open_store(results)
    typer.echo(str(write_report(store, output_file(output or results / "report.html", "output"))))
    if save_claims:
        for scenario, line in save(store).items():
            typer.echo(f"{scenario}: claims table saved: {line}")
    if docs is not None:
        from offloadlab.experiments.claims_table import sync_docs

        for page in sync_docs(output_dir(docs, "docs")):
            typer.echo(f"regenerated: {page}")


@app.command("reproduce")
def reproduce_cmd(
    scenario: str | None = typer.Argument(None, help="scenario whose paper to reproduce (see --list)"),
    list_papers: bool = typer.Option(False, "--list", help="list the papers that can be reproduced"),
    quick: bool = typer.Option(False, "--quick", help="the paper's reduced specs (few seeds, small budgets), minutes"),
    jobs: int = typer.Option(2, "--jobs", "-j", help="parallel worker processes"),
    out: Path | None = typer.Option(None, "--out", help="results folder (default results/SCENARIO[-quick])"),
    executor: str = typer.Option("local", help="local (worker processes) | ray"),
    ray_address: str | None = typer.Option(None, help="Ray cluster address (with --executor ray)"),
) -> None:
    """Run a paper's figure specs, then write figures and report.html with the paper claims vs measured."""
    from offloadlab.core.registry import papers
    from offloadlab.experiments.reproduce import reproduce
    from offloadlab.experiments.runner import make_executor, summary_lines

    if list_papers or scenario is None:
        for sid, paper in papers().items():
            quick_note = "--quick available" if paper.quick_specs else "no --quick"
            typer.echo(f"{sid}: {paper.title} [{len(paper.specs)} specs, {quick_note}] — {paper.status()}")
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


class TrainCommand(TyperCommand):
    """``offloadlab train``: its help ends with the trainers' methods, profiles (with their measured time and
    memory) and config keys, of the scenario named on the command line, else of every scenario."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[TRAIN_ARGS] = list(args)  # --help is handled before the arguments: keep them for format_help
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from offloadlab.core.trainers import scenarios_with_trainers
        from offloadlab.options_listing import training_listing

        super().format_help(ctx, formatter)
        named = [a for a in ctx.meta.get(TRAIN_ARGS, []) if a in scenarios_with_trainers()]
        formatter.write("\n" + training_listing(named[0] if named else None))


@app.command("train", cls=TrainCommand)
def train_cmd(
    scenario: str = typer.Argument(..., help="scenario whose model to train"),
    method: str | None = typer.Option(
        None, "--method", help="training method (the scenario's trainers, e.g. sft; optional when it has one)"
    ),
    profile: str = typer.Option(
        "cpu", "--profile", help="training profile of the scenario (listed below with its measured time and memory)"
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="output folder (default $OFFLOADLAB_TRAIN_DIR or ./train, then /SCENARIO: where the trained solvers "
        "look by default; for another folder give them --adapter or --model)",
    ),
    config: Path | None = typer.Option(None, "--config", help="JSON object of the trainer's settings"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted run from its last checkpoint"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Train a scenario's model offline (e.g. an LLM policy); rerun with --resume after an interruption."""
    from offloadlab.core.trainers import default_train_dir, get_trainer

    spec = get_trainer(scenario, method)
    settings = read_json(config, "config") if config else None
    folder = output_dir(out or default_train_dir(scenario), "out")
    with progress_to_stderr():  # stdout carries the JSON summary alone
        summary = spec.fn(folder, profile, settings, resume, not quiet)
    typer.echo(dumps(summary))


@contextlib.contextmanager
def progress_to_stderr() -> Iterator[None]:
    """Send what is printed to stdout, by Python or by a library's C code, to stderr while the block runs
    (descriptors 1 and 2 at the OS level, whatever ``sys.stdout`` is at the Python level)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptor 1 or 2 (a detached process): Python-level redirection only
        saved = -1
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        if saved >= 0:
            os.dup2(saved, 1)
            os.close(saved)


def _scenario_of(data: Any) -> str:
    if not isinstance(data, dict) or not isinstance(data.get("scenario"), str):
        raise InputError("instance.scenario", "missing: the instance must name its scenario")
    return data["scenario"]


def _usage_field(exc: UsageError) -> str:
    """The option or argument a usage error is about (else "command")."""
    param = getattr(exc, "param", None)
    if param is not None:
        return str(param.opts[0] if getattr(param, "opts", None) else param.name)
    name = getattr(exc, "option_name", None)
    return str(name) if name else "command"


def _one_line(text: str) -> str:
    """An error as one short line, with anything that looks like a secret masked."""
    from offloadlab.core.errors import MAX_MESSAGE, cut, mask_secrets

    return cut(mask_secrets(" ".join(line.strip() for line in text.splitlines() if line.strip())), 2 * MAX_MESSAGE)


def main() -> None:
    """Console entry point: user errors (ours and the command line's) become one line on stderr and exit 2."""
    try:
        code = app(standalone_mode=False)
    except OffloadlabError as exc:
        typer.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except NoArgsIsHelpError as exc:
        typer.echo(exc.format_message(), err=True)
        sys.exit(2)
    except UsageError as exc:
        typer.echo(f"error: {_usage_field(exc)}: {_one_line(exc.format_message())}", err=True)
        sys.exit(2)
    except OSError as exc:  # the file system refused a path the checks above let through (a race, a quota)
        where = shown(exc.filename) if exc.filename else "file"
        typer.echo(f"error: {where}: {_one_line(exc.strerror or str(exc))}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
