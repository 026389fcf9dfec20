"""The HTML report: self-contained, every figure drawn in a real Chromium, no request out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("plotly")

import hyperhive as hh  # noqa: E402
from hyperhive.analysis import build_report, write_report  # noqa: E402
from hyperhive.testing.browser import open_page  # noqa: E402

SINGLE_FIGURES = {
    "trajectory",
    "utilization",
    "importance",
    "parallel",
    "slice",
    "contour",
    "curves",
    "failures",
}
MULTI_FIGURES = {"trajectory", "utilization", "importance", "parallel", "slice", "contour"} | {
    "pareto",
    "hypervolume",
}

# Per figure: its plot container, how many drawn SVG layers, and marks actually drawn
# (points, bars, lines, contour paths or parallel-coordinate axes).
DRAWN = """() => Array.from(document.querySelectorAll('div.figure')).map(div => ({
  key: div.dataset.figure,
  plotly: div.classList.contains('js-plotly-plot'),
  svgs: div.querySelectorAll('svg.main-svg').length,
  marks: div.querySelectorAll(
    'path.point, g.point, path.js-line, .bars path, g.contourlevel path, .parcoords .axis'
  ).length,
}))"""


def _check_page(browser, path: Path, expected: set[str], screenshot: Path) -> None:
    page, log = open_page(browser)
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('div.figure.js-plotly-plot').length >= {len(expected)}",
            timeout=30_000,
        )
        page.wait_for_timeout(300)
        figures = page.evaluate(DRAWN)
        png = page.screenshot(path=str(screenshot), full_page=True)
        colours = page.evaluate(
            """async (b64) => { const img = new Image(); img.src = 'data:image/png;base64,' + b64;
            await img.decode(); const c = document.createElement('canvas');
            c.width = img.width; c.height = img.height; const x = c.getContext('2d');
            x.drawImage(img, 0, 0); const d = x.getImageData(0, 0, c.width, c.height).data;
            const seen = new Set(); for (let i = 0; i < d.length; i += 4 * 97)
              seen.add((d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4));
            return seen.size; }""",
            __import__("base64").b64encode(png).decode(),
        )
    finally:
        page.close()
    assert log.errors == []
    outside = [u for u in log.requests if not u.startswith(("file:", "data:", "blob:"))]
    assert outside == [], outside
    assert {f["key"] for f in figures} == expected
    for f in figures:
        assert f["plotly"] and f["svgs"] >= 1 and f["marks"] > 0, f
    assert len(png) > 50_000 and colours > 20  # a real picture, not a blank page


def test_report_of_one_run(browser, single_run: Path, tmp_path: Path) -> None:
    path = write_report(single_run, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert text.count("* plotly.js v") == 1  # plotly's code inlined once
    assert re.search(r"<script[^>]*\ssrc=", text) is None  # and nothing loaded from elsewhere
    assert re.search(r"<link[^>]*href=", text) is None
    assert "x1 too large for this model" in text  # failures with their reasons
    assert "Top trials" in text
    _check_page(browser, path, SINGLE_FIGURES, tmp_path / "single.png")


def test_report_of_several_objectives(browser, multi_run: Path, tmp_path: Path) -> None:
    path = hh.load(multi_run).report(tmp_path / "multi.html")
    assert "Pareto front" in path.read_text(encoding="utf-8")
    _check_page(browser, path, MULTI_FIGURES, tmp_path / "multi.png")


def test_comparison_report(single_run: Path, multi_run: Path) -> None:
    text = build_report([single_run, hh.load(single_run)], title="two runs")
    assert "<title>two runs</title>" in text
    assert "single (2)" in text and text.count("<script") == 2
