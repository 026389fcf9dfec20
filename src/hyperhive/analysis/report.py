"""The offline HTML report: one self-contained file with every figure that applies.

plotly's JavaScript is inlined once in the page head; the figures are JSON drawn by
it, so the file opens offline and requests nothing from any server.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hyperhive.analysis._plotting import NotApplicable, go
from hyperhive.analysis.plots_objectives import plot_curves, plot_hypervolume, plot_pareto
from hyperhive.analysis.plots_params import plot_contour, plot_importance, plot_parallel, plot_slice
from hyperhive.analysis.plots_search import (
    FAILURE_STATUSES,
    plot_failures,
    plot_trajectory,
    plot_utilization,
)
from hyperhive.analysis.source import RunLike, as_runs
from hyperhive.search import Result
from hyperhive.trial import TrialStatus

__all__ = ["FIGURES", "build_figures", "build_report", "summary_rows", "write_report"]

#: The report's figures, in order: (key, heading, function).
FIGURES: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("trajectory", "Trajectory", plot_trajectory),
    ("utilization", "Workers", plot_utilization),
    ("importance", "Parameter importance", plot_importance),
    ("parallel", "Parallel coordinates", plot_parallel),
    ("slice", "Slices", plot_slice),
    ("contour", "Contour", plot_contour),
    ("curves", "Learning curves", plot_curves),
    ("pareto", "Pareto front", plot_pareto),
    ("hypervolume", "Hypervolume", plot_hypervolume),
    ("failures", "Failures", plot_failures),
)
_MULTI_ONLY = {"pareto", "hypervolume"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
header{background:#1f2d3d;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c8d3df;font-size:13px}
main{padding:16px 24px;max-width:1300px;margin:auto}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:14px 0;padding:10px 16px}
h2{font-size:16px;margin:6px 0 10px}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#777;font-size:13px}pre{white-space:pre-wrap;font-size:12px;margin:4px 0}
nav a{margin-right:12px;font-size:13px}
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return "" if value is None else str(value)


def _span(result: Result) -> float:
    starts = [x for t in result.records for x in (t.submitted, t.started) if x is not None]
    ends = [t.finished for t in result.records if t.finished is not None]
    return float(max(ends) - min(starts)) if starts and ends else 0.0


def summary_rows(runs: Sequence[tuple[str, Result]]) -> list[tuple[str, list[str]]]:
    """The summary table: one row per quantity, one value per run."""
    rows: list[tuple[str, list[str]]] = [
        ("trials", [str(len(r)) for _, r in runs]),
        ("counted", [str(r.n_counted) for _, r in runs]),
    ]
    tallies = [Counter(t.status for t in r.records) for _, r in runs]
    for status in TrialStatus:
        counts = [tally[status] for tally in tallies]
        if any(counts):
            rows.append((status.value, [str(c) for c in counts]))
    rows.append(("objectives", [", ".join(r.directions) for _, r in runs]))
    bests = []
    for _, r in runs:
        if len(r.directions) == 1:
            b = r.best
            bests.append("none" if b is None else f"{_fmt(b.objective)} (trial {b.id})")
        else:
            bests.append(f"{len(r.pareto_front())} trial(s) on the Pareto front")
    rows.append(("best", bests))
    rows.append(("wall time", [f"{_span(r):.1f} s" for _, r in runs]))
    rows.append(("seed", [_fmt(r.seed) for _, r in runs]))
    rows.append(("run directory", [str(r.run_dir) if r.run_dir else "" for _, r in runs]))
    return rows


def _top(result: Result, n: int) -> list[Any]:
    if len(result.directions) > 1:
        return result.pareto_front()[:n]
    sign = 1.0 if result.directions[0] == "minimize" else -1.0
    done = [t for t in result.done if t.values is not None]
    return sorted(done, key=lambda t: (sign * t.values[0], t.id))[:n]  # type: ignore[index]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], raw: bool = False) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if raw else html.escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def top_trials_html(runs: Sequence[tuple[str, Result]], n: int = 10) -> str:
    """The best trials of each run (the Pareto front for several objectives) as tables."""
    parts = []
    for label, result in runs:
        trials = _top(result, n)
        if not trials:
            continue
        params = [p for p in result.space.names]
        head = ["trial", "objective", *params, "seconds"]
        rows = [
            [str(t.id), _fmt(t.objective), *[_fmt(t.config.get(p)) for p in params]]
            + [_fmt(t.duration)]
            for t in trials
        ]
        caption = f"<h3>{html.escape(label)}</h3>" if len(runs) > 1 else ""
        parts.append(caption + _table(head, rows))
    return "".join(parts) or "<p class='note'>No trial has succeeded yet.</p>"


def failures_html(runs: Sequence[tuple[str, Result]], n: int = 50) -> str:
    """Trials that failed, timed out or were lost, with their reasons (latest first)."""
    rows = []
    for label, result in runs:
        bad = [t for t in result.records if t.status.value in FAILURE_STATUSES]
        for t in sorted(bad, key=lambda t: -(t.finished or 0.0))[:n]:
            reason = html.escape(t.reason or "")
            if t.traceback:
                tb = html.escape(t.traceback)
                reason += f"<details><summary>traceback</summary><pre>{tb}</pre></details>"
            rows.append([html.escape(label), str(t.id), t.status.value, reason])
    if not rows:
        return "<p class='note'>No trial failed.</p>"
    head = ["run", "trial", "status", "reason"]
    if len(runs) == 1:
        head, rows = head[1:], [r[1:] for r in rows]
    return _table(head, rows, raw=True)


def build_figures(runs: Sequence[tuple[str, Result]]) -> list[tuple[str, str, Any, str]]:
    """Every figure of :data:`FIGURES` for ``runs``: ``(key, heading, figure or None, note)``.

    A figure that does not apply (:class:`NotApplicable`) is None with the reason.
    """
    results = [r for _, r in runs]
    multi = all(len(r.directions) > 1 for r in results)
    out = []
    for key, heading, fn in FIGURES:
        if key in _MULTI_ONLY and not multi:
            continue
        arg: Any = results if len(results) > 1 else results[0]
        try:
            out.append((key, heading, fn(arg), ""))
        except NotApplicable as exc:
            out.append((key, heading, None, str(exc)))
    return out


def figure_json(fig: Any) -> str:
    """A figure as plotly JSON (typed arrays kept compact)."""
    return str(fig.to_json())


def build_report(run: RunLike | Sequence[RunLike], *, title: str | None = None) -> str:
    """The report of one run, or the comparison of several, as one self-contained HTML page.

    Raises:
        ImportError: plotly is missing (the ``report`` extra).
    """
    go()
    from plotly.offline import get_plotlyjs

    runs = as_runs(run)
    names = ", ".join(label for label, _ in runs)
    title = title or (f"hyperhive report: {names}" if len(runs) == 1 else f"hyperhive: {names}")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    figures = build_figures(runs)
    nav = "".join(
        f"<a href='#fig-{k}'>{html.escape(h)}</a>" for k, h, f, _ in figures if f is not None
    )
    sections, scripts = [], []
    for key, heading, fig, note in figures:
        if fig is None:
            sections.append(
                f"<section id='fig-{key}' class='skipped'><h2>{html.escape(heading)}</h2>"
                f"<p class='note'>Not drawn: {html.escape(note)}.</p></section>"
            )
            continue
        sections.append(
            f"<section id='fig-{key}'><h2>{html.escape(heading)}</h2>"
            f"<div class='figure' id='plot-{key}' data-figure='{key}'></div></section>"
        )
        scripts.append(f"draw({json.dumps('plot-' + key)}, {figure_json(fig)});")
    summary = summary_rows(runs)
    summary_table = _table(["", *[label for label, _ in runs]], [[k, *v] for k, v in summary])
    # "</" never appears inside a script block (figure text could hold it).
    code = "\n".join(scripts).replace("</", "<\\/")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>written {now}</p></header><main>"
        f"<nav>{nav}</nav>"
        f"<section id='summary'><h2>Summary</h2>{summary_table}</section>"
        + "".join(sections)
        + f"<section id='top'><h2>Top trials</h2>{top_trials_html(runs)}</section>"
        f"<section id='failed'><h2>Failed trials</h2>{failures_html(runs)}</section>"
        "</main><script>"
        "function draw(id, fig){Plotly.newPlot(id, fig.data, fig.layout,"
        "{responsive:true, displaylogo:false, showLink:false});}\n"
        f"{code}</script></body></html>"
    )


def write_report(
    run: RunLike | Sequence[RunLike], path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write :func:`build_report` to ``path`` atomically; returns the path.

    Raises:
        FileNotFoundError: the folder of ``path`` does not exist.
    """
    from hyperhive.storage import atomic_write_text

    target = Path(path).expanduser()
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot write {str(target)!r}: its folder does not exist")
    atomic_write_text(target, build_report(run, title=title))
    return target
