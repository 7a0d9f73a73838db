"""Generated pages of the docs site (run by mkdocs-gen-files at every build): the CLI reference, each
scenario's parameters, every solver's options, the papers table of the home page, the contract examples and
the navigation. Everything is read from the code of this checkout; a parameter, option or command without a
description is a warning, which ``mkdocs build --strict`` turns into a failed build."""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT / "src")]  # this checkout's offloadlab, then the generator modules

from docs_cli import cli_page  # noqa: E402
from docs_examples import examples_section  # noqa: E402
from docs_nav import summary  # noqa: E402
from docs_papers import papers_table  # noqa: E402
from docs_registry import scenario_page, scenarios_index, solvers_page  # noqa: E402

from offloadlab.core.registry import papers, scenarios  # noqa: E402

PAPERS_MARK = "<!-- papers-table -->"
DOCS = ROOT / "docs"


def write(path: str, text: str) -> None:
    """Write a generated page into the build (never into the source tree)."""
    with mkdocs_gen_files.open(path, "w") as f:
        f.write(text)


def main() -> None:
    """Generate every page."""
    write("reference/cli.md", cli_page())
    write("reference/scenarios/index.md", scenarios_index())
    for sid in scenarios():
        write(f"reference/scenarios/{sid}.md", scenario_page(sid))
    write("reference/solvers.md", solvers_page())
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    write("index.md", index.replace(PAPERS_MARK, papers_table(docs_prefix="")))
    contracts = (DOCS / "contracts.md").read_text(encoding="utf-8")
    write("contracts.md", contracts.rstrip("\n") + "\n\n" + examples_section())
    for sid, paper in papers().items():  # each paper page opens with the status line the registry computes
        page = DOCS / f"{sid}.md"
        if page.exists():
            write(page.name, with_status(page.read_text(encoding="utf-8"), paper.status()))
    write("SUMMARY.md", summary(DOCS, list(papers()), scenarios()))


def with_status(text: str, status: str) -> str:
    """The page with the paper's status line (as ``offloadlab reproduce --list`` prints it) under its title."""
    title, _, rest = text.partition("\n")
    note = f'!!! info "Status (`offloadlab reproduce --list`)"\n    {status}\n'
    return f"{title}\n\n{note}\n{rest.lstrip(chr(10))}" if title.startswith("# ") else f"{note}\n{text}"


main()
