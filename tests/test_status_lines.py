"""Status lines are computed, never typed: each paper's line comes from its saved claims table
(papers/<id>/claims.json, written by `offloadlab report STORE --save-claims`), and every line written in
the docs equals the computed one."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from offloadlab.cli import app
from offloadlab.core.registry import papers
from offloadlab.experiments.claims import status_line
from offloadlab.experiments.claims_table import load_table, status_lines, synced, written_status

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))


def test_every_paper_has_a_saved_claims_table():
    for sid, paper in papers().items():
        table = load_table(paper.claims_file)
        assert table, f"{sid}: no claims table saved at {paper.claims_file}"
        assert paper.status() == status_line(table) == status_lines()[sid]


def test_the_generated_blocks_of_the_docs_are_up_to_date():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert synced(text, ROOT) == text, f"{page.name}: run `offloadlab report STORE --save-claims --docs docs`"


def test_each_papers_docs_status_line_equals_its_computed_table():
    written = [pair for page in PAGES for pair in written_status(page.read_text(encoding="utf-8"))]
    for sid, paper in papers().items():
        file = str(paper.claims_file.relative_to(ROOT / "src").as_posix())
        lines = [line for name, line in written if name.endswith(file)]
        assert lines, f"{sid}: no docs page shows the status line of {file}"
        assert set(lines) == {paper.status()}, sid


def test_reproduce_list_prints_the_computed_lines():
    out = CliRunner().invoke(app, ["reproduce", "--list"]).output
    for sid, paper in papers().items():
        assert f"{sid}: " in out and paper.status() in out, sid
