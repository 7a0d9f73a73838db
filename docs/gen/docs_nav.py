"""The site's navigation (``SUMMARY.md`` for mkdocs-literate-nav): a page per registered paper with its
companion pages (``docs/<id>-*.md``), the guides, the reference, and any other page under "More", so a page
added to ``docs/`` is always reachable."""

from __future__ import annotations

from pathlib import Path

from docs_models import log

GUIDES = [
    ("Add a scenario", "add-a-scenario.md"),
    ("Experiments and Ray", "experiments.md"),
    ("The LLM layer", "llm.md"),
    ("Fine-tuning a policy LLM", "finetune.md"),
    ("Reliability", "reliability.md"),
    ("Benchmarks", "benchmarks.md"),
]


def title_of(page: Path) -> str:
    """The page's first-level heading without Markdown code marks (its file name when it has none)."""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    return page.stem


def _link(title: str, path: str, depth: int) -> str:
    return f"{'    ' * depth}* [{title.replace('[', '(').replace(']', ')')}]({path})"


def summary(docs_dir: Path, paper_ids: list[str], scenario_ids: list[str]) -> str:
    """The literate-nav Markdown of the whole site."""
    placed = {"index.md"}
    lines = [_link("Home", "index.md", 0), "* Papers"]
    for pid in paper_ids:
        main = docs_dir / f"{pid}.md"
        extra = sorted(p for p in docs_dir.glob(f"{pid}-*.md"))
        if not main.exists():
            log.warning("paper %s has no page docs/%s.md", pid, pid)
            continue
        placed.update([main.name, *(p.name for p in extra)])
        if not extra:
            lines.append(_link(pid, main.name, 1))
            continue
        lines += [f"    * {pid}", _link("Overview", main.name, 2)]
        subtitles = [title_of(p).removeprefix(f"{pid}: ") for p in extra]
        lines += [_link(t[:1].upper() + t[1:], p.name, 2) for t, p in zip(subtitles, extra)]
    lines.append("* Guides")
    for title, name in GUIDES:
        if (docs_dir / name).exists():
            placed.add(name)
            lines.append(_link(title, name, 1))
        else:
            log.warning("guide page docs/%s is missing", name)
    placed.add("contracts.md")
    lines += [
        "* Reference",
        _link("JSON contracts", "contracts.md", 1),
        _link("Command line", "reference/cli.md", 1),
        "    * Scenario parameters",
        _link("All scenarios", "reference/scenarios/index.md", 2),
        *(_link(sid, f"reference/scenarios/{sid}.md", 2) for sid in scenario_ids),
        _link("Solver options", "reference/solvers.md", 1),
    ]
    rest = sorted(p for p in docs_dir.glob("*.md") if p.name not in placed and p.name != "SUMMARY.md")
    if rest:
        lines.append("* More")
        lines += [_link(title_of(p), p.name, 1) for p in rest]
    return "\n".join(lines) + "\n"
