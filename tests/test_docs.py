"""The documentation: a strict build of the site (warnings are errors), the README's papers table equal to the
registry's, the contract examples valid against the code, and reference tables that follow the models."""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import yaml
from pydantic import Field, create_model

from offloadlab.core.config import StrictModel
from offloadlab.core.registry import get_scenario, scenarios

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "gen"))

import docs_examples  # noqa: E402
import docs_models  # noqa: E402
import docs_papers  # noqa: E402
import docs_registry  # noqa: E402

ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    "DISABLE_MKDOCS_2_WARNING": "true",  # banners printed by plug-ins and the theme, not build warnings
    "NO_MKDOCS_2_WARNING": "1",
}


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of a config into ``site``."""
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)]
    return subprocess.run(cmd, cwd=config.parent, env=ENV, capture_output=True, text=True, timeout=300)


def test_strict_docs_build_passes(tmp_path):
    out = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert out.returncode == 0, out.stderr[-4000:]
    for page in ("index.html", "reference/cli/index.html", "reference/solvers/index.html", "contracts/index.html"):
        assert (tmp_path / "site" / page).is_file(), page
    for sid in scenarios():
        assert (tmp_path / "site" / "reference" / "scenarios" / sid / "index.html").is_file(), sid


def test_a_broken_link_fails_the_strict_build(tmp_path):
    """The site's own validation settings, on a one-page site with a link to a missing page and anchor."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md), [no anchor](#nowhere)\n")
    small = {k: config[k] for k in ("site_name", "strict", "validation", "markdown_extensions")}
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump({**small, "docs_dir": "docs"}))
    out = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert out.returncode != 0
    assert "missing.md" in out.stderr and "#nowhere" in out.stderr


def test_a_parameter_without_a_description_is_a_build_warning(caplog):
    model = create_model("P", __base__=StrictModel, x_s=(float, Field(1.0, gt=0, description="a time")), y=(int, 2))
    with caplog.at_level(logging.WARNING, logger=docs_models.log.name):
        table = docs_models.field_table(model, "P")
    assert [r.getMessage() for r in caplog.records] == ["P: field 'y' has no description (Field(description=...))"]
    assert "| `x_s` | float | (0, ∞) | `1` | s | a time |" in table


def test_changing_a_bound_changes_the_page():
    """The parameter tables read the models: the same field with another bound renders another row."""
    model = docs_registry.params_model(get_scenario("satellite-mec"))
    field = model.model_fields["M"]
    assert f"| `M` | int | [{field.metadata[0].ge}, {field.metadata[1].le}] |" in docs_models.field_table(model, "M")
    narrower = create_model("P", __base__=StrictModel, M=(int, Field(3, ge=2, le=7, description=field.description)))
    assert "| `M` | int | [2, 7] | `3` | – | number of satellites |" in docs_models.field_table(narrower, "P")


def test_option_descriptions_come_from_optional_annotated_arms():
    """``Kicks | None`` keeps its alias's bounds and description inside the union: the table finds them."""
    kicks = Annotated[int, Field(ge=0, le=9, description="kicks")]
    model = create_model("O", k=(kicks | None, None))
    row = docs_models.field_rows(model, "O")[0]
    assert row == "| `k` | int \\| null | [0, 9] | `null` | – | kicks |"


def test_every_scenario_page_lists_every_parameter():
    for sid in scenarios():
        model = docs_registry.params_model(get_scenario(sid))
        page = docs_registry.scenario_page(sid)
        missing = [name for name in model.model_fields if f"| `{name}` |" not in page]
        assert not missing, (sid, missing)


def test_readme_papers_table_equals_the_generated_one():
    table = docs_papers.readme_table((ROOT / "README.md").read_text())
    assert table, "README.md lacks the papers table markers"
    assert table == docs_papers.papers_table(), "run: PYTHONPATH=src python docs/gen/docs_papers.py --write"


def test_readme_is_a_short_front_door_whose_links_resolve():
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 10_500
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text) if "://" not in t]
    assert targets and not [t for t in targets if not (ROOT / t).exists()]


@pytest.mark.parametrize("scenario", scenarios())
def test_contract_examples_load_validate_and_evaluate(scenario):
    """Each scenario's example instance and decision (shown on the contracts page) pass the code's own checks."""
    data, _, report = docs_examples.evaluate_example(scenario)
    problem = get_scenario(scenario)
    assert data["scenario"] == scenario
    assert set(data["params"]) == set(docs_registry.params_model(problem).model_fields)
    assert isinstance(report["feasible"], bool) and isinstance(report["violations"], list)
    objective = report.get(problem.manifest.objective.name)
    assert objective is None or not report["feasible"] or math.isfinite(objective)


def test_no_reference_to_a_design_file_outside_the_repository():
    cited = [
        str(p.relative_to(ROOT))
        for folder in ("src", "tests", "docs")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".py", ".md", ".toml") and p != Path(__file__) and "DESIGN.md" in p.read_text(errors="ignore")
    ]
    cited += ["pyproject.toml"] if "DESIGN.md" in (ROOT / "pyproject.toml").read_text() else []
    assert not cited
