"""Reference pages of the registered scenarios and solvers: each scenario's parameters, presets and
decision, and each solver's options, read from the registry that the CLI uses."""

from __future__ import annotations

import sys
from typing import Any

from docs_models import NO_UNIT, cell, field_table, log, nested_models, number
from pydantic import BaseModel

from offloadlab.core.options import options_model
from offloadlab.core.problem import Problem
from offloadlab.core.registry import ANY_STATIC, SolverSpec, get_scenario, scenarios, solvers_for
from offloadlab.llm.options import OPTION_NAMES, LLMOptions


def params_model(problem: Problem) -> type[BaseModel]:
    """The params model of a scenario, from its small instance (``load_instance(...).params``)."""
    inst = problem.load_instance(problem.make_instance(0, "default", **problem.manifest.small))
    return type(inst.params)


def presets_of(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """The scenario's presets (``PRESETS`` beside its params model): overrides of the model's defaults."""
    return dict(getattr(sys.modules[model.__module__], "PRESETS", {}))


def solver_anchor(spec: SolverSpec) -> str:
    """The anchor of a solver's section on the solver reference page."""
    return f"generic-{spec.name}" if spec.scenario == ANY_STATIC else f"{spec.scenario}-{spec.name}"


def _preset_table(problem: Problem, model: type[BaseModel]) -> str:
    presets = presets_of(model)
    rows = ["| preset | differs from the defaults above |", "|---|---|"]
    for name in problem.manifest.presets:
        overrides = presets.get(name, {})
        changed = [f"`{k}` = {number(v) if isinstance(v, (int, float)) else f'`{v}`'}" for k, v in overrides.items()]
        rows.append(f"| `{name}` | {cell(', '.join(changed)) or 'nothing'} |")
    return "\n".join(rows)


def _decision_table(problem: Problem) -> str:
    inst = problem.load_instance(problem.make_instance(0, "default", **problem.manifest.small))
    space = problem.decision_space(inst)
    rows = ["| field | element bounds | integer | meaning |", "|---|---|---|---|"]
    for f in space.fields:
        soft = " (upper bound and integrality are constraints)" if f.soft else ""
        rows.append(
            f"| `{f.name}` | [{number(f.low)}, {number(f.high)}] | {'yes' if f.integer else 'no'} | "
            f"{cell(f.description)}{soft} |"
        )
    constraints = "\n".join(f"- {c}" for c in space.constraints)
    return "\n".join(rows) + ("\n\nConstraints (on the small instance):\n\n" + constraints if constraints else "")


def scenario_page(scenario: str) -> str:
    """The reference page of one scenario: manifest, parameters, nested models, presets, decision, solvers."""
    problem = get_scenario(scenario)
    m = problem.manifest
    model = params_model(problem)
    where = f"scenario {scenario}: {model.__name__}"
    objective = f"{m.objective.label}" + (f" ({m.objective.unit})" if m.objective.unit else "")
    kind = "sequential (an episode of slots)" if m.sequential else "static (one decision per instance)"
    envs = ", ".join(f"`{e}`" for e in (*m.gym_ids, *m.parallel_env_ids)) or NO_UNIT
    solvers = ", ".join(
        f"[`{s.name}`](../solvers.md#{solver_anchor(s)})" for s in sorted(solvers_for(scenario).values(), key=_by_name)
    )
    doc = " ".join((model.__doc__ or "").split())
    parts = [
        f"# {scenario}: parameters and decision",
        "",
        f"Paper: {_paper(m.paper, m.seed)}. Objective: {objective}, {m.objective.direction}imised. Kind: {kind}. "
        f"Environments: {envs}. Solvers: {solvers}.",
        "",
        f"Generated from `{model.__module__}.{model.__name__}`. An instance file carries every parameter "
        f"(see the [JSON contracts](../../contracts.md)); `offloadlab instance {scenario} --NAME VALUE` overrides "
        "one, and a value outside its bounds is one line `error: parameter NAME: ...`. The unit column is read "
        "from the name's suffix (`_hz` Hz, `_s` s, `_dbm` dBm, ...); – marks counts, ratios, choices and fields whose "
        "unit the meaning states.",
        "",
        f"## Parameters (`{model.__name__}`)",
        "",
        doc,
        "",
        field_table(model, where),
    ]
    for nested in nested_models(model):
        ndoc = " ".join((nested.__doc__ or "").split())
        table = field_table(nested, f"scenario {scenario}: {nested.__name__}")
        parts += ["", f"### `{nested.__name__}`", "", ndoc, "", table]
    parts += ["", "## Presets", "", _preset_table(problem, model), "", "## Decision", "", _decision_table(problem), ""]
    return "\n".join(parts)


def _paper(citation: str, seed: str) -> str:
    return citation if f"seed {seed}" in citation else f"{citation} (seed {seed})"


def _by_name(spec: SolverSpec) -> str:
    return spec.name


def _uses_llm_options(fields: dict[str, Any]) -> bool:
    return set(OPTION_NAMES) <= set(fields)


def _solver_section(spec: SolverSpec, scenarios_of: list[str]) -> str:
    model = options_model(spec.fn)
    fields = model.model_fields
    llm = _uses_llm_options(fields)
    own = [n for n in fields if not (llm and n in OPTION_NAMES)]
    where = f"solver {spec.name} ({spec.scenario if spec.scenario != ANY_STATIC else 'generic'})"
    lines = [
        f"### `{spec.name}` {{#{solver_anchor(spec)}}}",
        "",
        cell(spec.description) or "",
        "",
        f"Budget counts: `{spec.budget_unit}`."
        + (f" Applies to: {', '.join(f'`{s}`' for s in scenarios_of)}." if spec.scenario == ANY_STATIC else ""),
        "",
        field_table(model, where, own, units=False),
    ]
    if llm:
        changed = [
            f"`{opt}` = `{fields[opt].get_default(call_default_factory=True)!r}`"
            for opt, name in OPTION_NAMES.items()
            if fields[opt].get_default(call_default_factory=True)
            != LLMOptions.model_fields[name].get_default(call_default_factory=True)
        ]
        note = f" (defaults changed here: {', '.join(changed)})" if changed else ""
        lines += ["", f"It also takes every [LLM option](#llm-options){note}."]
    return "\n".join(lines)


def solvers_page() -> str:
    """The reference page of every registered solver's options, generic solvers first."""
    ids = scenarios()
    table = {sc: solvers_for(sc) for sc in ids}
    generic: dict[str, list[str]] = {}
    for sc, specs in table.items():
        for spec in specs.values():
            if spec.scenario == ANY_STATIC:
                generic.setdefault(spec.name, []).append(sc)
    parts = [
        "# Solver options",
        "",
        "Every solver is called as `fn(problem, instance, budget, rng, **options)`. Options are given as "
        "`--NAME VALUE` to `offloadlab solve` or under a solver's `options:` in a spec file, and are checked "
        "against the tables below (generated from each solver's signature, `core.options.options_model`): an "
        "unknown option, a value of the wrong type or outside its bounds is one line `error: option NAME: ...`. "
        "`offloadlab list` prints the solvers available for each scenario.",
        "",
        "## Generic solvers (every static scenario they apply to)",
    ]
    seen: set[str] = set()
    for specs in table.values():
        for spec in sorted(specs.values(), key=_by_name):
            if spec.scenario == ANY_STATIC and spec.name not in seen:
                seen.add(spec.name)
                parts += ["", _solver_section(spec, generic[spec.name])]
    for sc, specs in table.items():
        own = [s for s in sorted(specs.values(), key=_by_name) if s.scenario == sc]
        parts += ["", f"## {sc} {{#{sc}}}", "", f"Parameters: [{sc}](scenarios/{sc}.md)."]
        parts += ["\n" + _solver_section(spec, [sc]) for spec in own]
    display = {name: opt for opt, name in OPTION_NAMES.items()}
    parts += [
        "",
        "## LLM options {#llm-options}",
        "",
        "Shared by every LLM method (`llm.options.LLMOptions`); the backends and structured-output dialects are "
        "described on [the LLM layer](../llm.md) page.",
        "",
        field_table(LLMOptions, "LLMOptions", display=display, units=False),
        "",
    ]
    return "\n".join(parts)


def scenarios_index() -> str:
    """The index of the scenario reference pages."""
    rows = ["| scenario | paper | kind | parameters | solvers |", "|---|---|---|---|---|"]
    for sc in scenarios():
        problem = get_scenario(sc)
        m = problem.manifest
        n_params = len(params_model(problem).model_fields)
        rows.append(
            f"| [`{sc}`]({sc}.md) | {cell(_paper(m.paper, m.seed))} | {'sequential' if m.sequential else 'static'} "
            f"| {n_params} | {len(solvers_for(sc))} |"
        )
    if not scenarios():
        log.warning("no scenario is registered")
    return "\n".join(
        ["# Scenario parameters", "", "Generated from each registered scenario's params model.", "", *rows, ""]
    )
