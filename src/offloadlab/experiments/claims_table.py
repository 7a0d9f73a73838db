"""The latest computed claims table of each paper, saved as a committed, generated file
(``papers/<id>/claims.json``), and everything a reader sees about it computed from that file: the status line
(``offloadlab reproduce --list``, the README table, the paper's docs page) and the docs page's claims block.

``offloadlab report STORE --save-claims`` recomputes the claims of the experiments in STORE and merges them
into each paper's file: a row with the same (figure, paper claim) is replaced (a claim judged twice, e.g. in
two worlds, by its row in the same order), other rows are kept, so a paper whose figures were run into
several stores is saved store by store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from offloadlab.experiments.claims import Claim, claim_of, claim_row, status_line
from offloadlab.experiments.runner import now_iso

# A docs page carries generated blocks: "claims" (the status line and the table) or "claims status" (the line).
BEGIN = "<!-- {kind}: generated from {file} by offloadlab report --save-claims; do not edit -->"
END = "<!-- end of generated claims -->"
STATUS = "Status (computed from `{file}`): **{line}**"
_BLOCK = re.compile(
    r"<!-- (?P<kind>claims|claims status): generated from (?P<file>\S+) .*?-->\n.*?<!-- end of generated claims -->",
    re.S,
)


def load_table(path: Path) -> list[Claim]:
    """The claims rows of a saved table ([] when the paper has none saved yet)."""
    if not path.exists():
        return []
    return [claim_of(row) for row in json.loads(path.read_text(encoding="utf-8"))["claims"]]


def _keys(claims: list[Claim]) -> list[tuple[str, str, int]]:
    """(figure, paper claim, k): the k-th row of a claim judged more than once (e.g. in two worlds)."""
    seen: dict[tuple[str, str], int] = {}
    out = []
    for c in claims:
        k = seen[(c.figure, c.paper)] = seen.get((c.figure, c.paper), -1) + 1
        out.append((c.figure, c.paper, k))
    return out


def merged(old: list[Claim], new: list[Claim]) -> list[Claim]:
    """``old`` with each row replaced by the new row of the same (figure, paper claim, repeat); new rows
    appended."""
    fresh = dict(zip(_keys(new), new))
    out = [fresh.pop(key, c) for key, c in zip(_keys(old), old)]
    return out + list(fresh.values())


def save_table(path: Path, scenario: str, claims: list[Claim], store: str) -> list[Claim]:
    """Merge ``claims`` into the saved table at ``path`` and write it; returns the saved rows."""
    rows = merged(load_table(path), claims)
    data: dict[str, Any] = {
        "scenario": scenario,
        "generated": now_iso(),
        "last_store": store,
        "status": status_line(rows),
        "claims": [claim_row(c) for c in rows],
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return rows


def status_of(claims: list[Claim]) -> str:
    """A paper's status line from its claims table."""
    return status_line(claims)


def status_lines() -> dict[str, str]:
    """Every registered paper's status line, computed from its saved claims table (for the README table)."""
    from offloadlab.core.registry import papers

    return {sid: paper.status() for sid, paper in papers().items()}


def markdown_rows(claims: list[Claim]) -> list[str]:
    """The claims as a Markdown table (figure, claim, measured, verdict, runs)."""
    lines = ["| figure | paper claims | measured | verdict | runs |", "|---|---|---|---|---|"]
    for c in claims:
        cells = [c.figure, c.paper, c.measured, f"**{c.verdict}**", runs_text(c)]
        lines.append("| " + " | ".join(x.replace("|", "\\|").replace("\n", " ") for x in cells) + " |")
    return lines


def runs_text(c: Claim) -> str:
    """How many stored runs a row used, and of which experiment(s)."""
    if not c.runs:
        return "–"
    if len(c.runs) == 1 and not re.fullmatch(r"[0-9a-f]{24}", c.runs[0]):
        return c.runs[0]  # a named source (e.g. a shipped reproduction), not a run key
    return f"{len(c.runs)} of {c.experiment}"


def docs_block(file: str, claims: list[Claim], kind: str = "claims") -> str:
    """A generated part of a paper's docs page: its status line, and with ``kind = "claims"`` its table."""
    status = STATUS.format(file=file, line=status_line(claims))
    table = ["", *markdown_rows(claims)] if kind == "claims" else []
    return "\n".join([BEGIN.format(kind=kind, file=file), status, *table, END])


def synced(text: str, root: Path) -> str:
    """A docs page with its generated blocks recomputed from the claims files they name (relative to
    ``root``, the repository); a page without a block is returned unchanged."""

    def block(m: re.Match[str]) -> str:
        return docs_block(m["file"], load_table(root / m["file"]), m["kind"])

    return _BLOCK.sub(block, text)


def written_status(text: str) -> list[tuple[str, str]]:
    """The (claims file, status line) pairs written in a docs page's generated blocks."""
    pattern = re.escape(STATUS).replace(r"\{file\}", r"(\S+)").replace(r"\{line\}", "(.*)")
    return re.findall(pattern, text)


def sync_docs(docs: Path) -> list[Path]:
    """Recompute the generated blocks of every page under ``docs`` (claims files are named relative to the
    folder above it, the repository); returns the pages that changed."""
    changed = []
    for page in sorted(docs.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        new = synced(text, docs.resolve().parent)
        if new != text:
            page.write_text(new, encoding="utf-8")
            changed.append(page)
    return changed
