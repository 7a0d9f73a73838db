"""The report renders in a real browser (headless Chromium, Debian's package)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from offloadlab.experiments.report import write_report
from tests.experiments.synthetic import fig4_objective, fig4_spec, fill

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1200,2400",
]


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
def test_report_renders_in_headless_chromium(tmp_path):
    store = fill(tmp_path / "s", fig4_spec(), fig4_objective)
    html = write_report(store, tmp_path / "report.html")
    shot = Path(os.environ.get("OFFLOADLAB_SCREENSHOT", tmp_path / "report.png"))
    proc = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--screenshot={shot}", html.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert shot.is_file(), proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    img = Image.open(shot).convert("L")
    assert img.size == (1200, 2400)
    colours = img.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text, tables and the figure, not a blank page
    dom = subprocess.run(
        [str(CHROMIUM), *FLAGS, "--dump-dom", html.resolve().as_uri()], capture_output=True, text=True, timeout=180
    ).stdout
    assert "Paper claims vs measured" in dom and "<img" in dom
