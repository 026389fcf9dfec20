"""How the search went: the trajectory, what every worker did, and what failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperhive.analysis._plotting import (
    STATUS_COLORS,
    NotApplicable,
    decimate,
    done_values,
    go,
    objective_name,
    run_colors,
    start_time,
    status_of,
)
from hyperhive.analysis.source import RunLike, as_runs

__all__ = ["plot_failures", "plot_trajectory", "plot_utilization"]

#: Bars a timeline draws at most; beyond, neighbouring bars of a worker merge.
MAX_BARS = 3000
FAILURE_STATUSES = ("failed", "timeout", "lost")


def plot_trajectory(
    run: RunLike | Sequence[RunLike], *, objective: int = 0, x: str = "trials"
) -> Any:
    """Every done trial's value and the best value so far, in the order trials finished.

    Args:
        run: a run (directory, store URL, store or Result) or several to compare.
        objective: which objective, for runs with several.
        x: ``"trials"`` (trials finished) or ``"time"`` (seconds since the run began).

    Raises:
        NotApplicable: no run has a done trial.
    """
    if x not in ("trials", "time"):
        raise ValueError(f"x must be 'trials' or 'time', got {x!r}")
    g = go()
    runs = as_runs(run)
    fig = g.Figure()
    many = len(runs) > 1
    for (label, result), color in zip(runs, run_colors(len(runs)), strict=True):
        trials, values = done_values(result, objective)
        if not len(values):
            continue
        if x == "time":
            t0 = start_time(result)
            xs = np.array([(t.finished or t0) - t0 for t in trials])
        else:
            xs = np.arange(1, len(values) + 1, dtype=float)
        sign = 1.0 if result.directions[objective] == "minimize" else -1.0
        best = sign * np.minimum.accumulate(sign * values)
        improved = np.flatnonzero(np.r_[True, best[1:] != best[:-1]])
        keep = decimate(len(values), improved)
        ids = np.array([t.id for t in trials])
        fig.add_trace(
            g.Scatter(
                x=xs[keep],
                y=values[keep],
                mode="markers",
                name=f"{label}: trials" if many else "trials",
                marker={"color": color, "size": 5, "opacity": 0.5},
                customdata=ids[keep],
                hovertemplate="trial %{customdata}<br>value %{y}<extra></extra>",
            )
        )
        steps = np.r_[improved, len(values) - 1]
        fig.add_trace(
            g.Scatter(
                x=xs[steps],
                y=best[steps],
                mode="lines",
                line={"shape": "hv", "color": color, "width": 2},
                name=f"{label}: best so far" if many else "best so far",
            )
        )
    if not fig.data:
        raise NotApplicable("no done trial to plot")
    fig.update_layout(
        title="Trajectory",
        xaxis_title="trials finished" if x == "trials" else "seconds since the start",
        yaxis_title=objective_name(runs[0][1], objective),
    )
    return fig


def _intervals(result: Any, prefix: str) -> list[tuple[str, float, float, str, int]]:
    """``(worker, start, end, status, id)`` of every trial that started; a running trial
    ends at the latest time the run recorded."""
    times = [x for t in result.records for x in (t.submitted, t.started, t.finished) if x]
    latest = max(times) if times else 0.0
    out = []
    for t in result.records:
        start = t.started if t.started is not None else t.submitted
        if start is None:
            continue
        end = t.finished if t.finished is not None else latest
        out.append((prefix + (t.worker or "main"), float(start), float(end), status_of(t), t.id))
    return out


def _merge(rows: list[tuple[str, float, float, str, int]], gap: float) -> list[tuple[Any, ...]]:
    """Join consecutive bars of one worker and status closer than ``gap`` seconds."""
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    out: list[list[Any]] = []
    for worker, start, end, status, tid in rows:
        last = out[-1] if out else None
        if last and last[0] == worker and last[3] == status and start - last[2] <= gap:
            last[2] = max(last[2], end)
            last[5] += 1
        else:
            out.append([worker, start, end, status, tid, 1])
    return [tuple(r) for r in out]


def plot_utilization(run: RunLike | Sequence[RunLike]) -> Any:
    """A timeline of every worker: one bar per trial, coloured by status.

    The title gives the utilization: time inside trials over workers x span. Long
    timelines are decimated: neighbouring bars of one worker with the same status
    merge (their hover says how many trials) until at most about 3,000 remain.

    Raises:
        NotApplicable: no trial has started.
    """
    g = go()
    runs = as_runs(run)
    many = len(runs) > 1
    rows: list[tuple[str, float, float, str, int]] = []
    t0 = min(start_time(r) for _, r in runs)
    for label, result in runs:
        rows += _intervals(result, f"{label}/" if many else "")
    if not rows:
        raise NotApplicable("no trial has started")
    span = max(r[2] for r in rows) - min(r[1] for r in rows)
    workers = sorted({r[0] for r in rows})
    busy = sum(r[2] - r[1] for r in rows)
    merged: list[tuple[Any, ...]] = [(*r, 1) for r in rows]
    gap = 0.0
    while len(merged) > MAX_BARS and span > 0:
        gap = span / 4000 if gap == 0 else gap * 4
        merged = _merge(rows, gap)
    fig = g.Figure()
    for status in STATUS_COLORS:
        bars = [m for m in merged if m[3] == status]
        if not bars:
            continue
        fig.add_trace(
            g.Bar(
                orientation="h",
                y=np.array([m[0] for m in bars], dtype=object),
                base=np.array([m[1] - t0 for m in bars]),
                x=np.array([max(m[2] - m[1], 1e-3) for m in bars]),
                name=status,
                marker={"color": STATUS_COLORS[status]},
                customdata=np.array([[m[4], m[5]] for m in bars]),
                hovertemplate="trial %{customdata[0]} (%{customdata[1]} trial(s))"
                "<br>start %{base:.2f} s<br>%{x:.2f} s<extra>" + status + "</extra>",
            )
        )
    util = busy / (len(workers) * span) if span > 0 else 1.0
    fig.update_layout(
        title=f"Worker utilization: {100 * min(util, 1.0):.1f}% of {len(workers)} worker(s)",
        barmode="overlay",
        xaxis_title="seconds since the start",
        yaxis={"title": "worker", "categoryorder": "category descending"},
        height=max(300, min(900, 60 + 22 * len(workers))),
    )
    return fig


def plot_failures(run: RunLike | Sequence[RunLike]) -> Any:
    """How many trials failed, timed out or were lost, by reason (first line, shortened).

    Raises:
        NotApplicable: no trial failed.
    """
    g = go()
    runs = as_runs(run)
    counts: dict[tuple[str, str, str], int] = {}
    for label, result in runs:
        for t in result.records:
            status = status_of(t)
            if status not in FAILURE_STATUSES:
                continue
            reason = (t.reason or "(no reason given)").strip().splitlines()[0][:80]
            key = (label, status, reason)
            counts[key] = counts.get(key, 0) + 1
    if not counts:
        raise NotApplicable("no trial failed")
    fig = g.Figure()
    many = len(runs) > 1
    for status in FAILURE_STATUSES:
        keys = sorted((k for k in counts if k[1] == status), key=lambda k: -counts[k])[:20]
        if not keys:
            continue
        fig.add_trace(
            g.Bar(
                orientation="h",
                y=[f"{k[0]}: {k[2]}" if many else k[2] for k in keys],
                x=[counts[k] for k in keys],
                name=status,
                marker={"color": STATUS_COLORS[status]},
            )
        )
    fig.update_layout(
        title=f"Failures: {sum(counts.values())} trial(s)",
        xaxis_title="trials",
        yaxis={"automargin": True, "categoryorder": "total ascending"},
        barmode="stack",
    )
    return fig
