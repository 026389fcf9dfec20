"""Learning curves, and the trade-offs of several objectives: Pareto front, hypervolume."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperhive.analysis._plotting import (
    NotApplicable,
    decimate,
    finished_order,
    go,
    objective_name,
    run_colors,
    status_of,
)
from hyperhive.analysis.source import RunLike, as_runs

__all__ = ["plot_curves", "plot_hypervolume", "plot_pareto"]

#: Learning curves drawn at most per run (the best and an even spread of the others).
MAX_CURVES = 300


def _report_value(value: Any, objective: int) -> float:
    if isinstance(value, list | tuple):
        value = value[objective] if objective < len(value) else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def plot_curves(run: RunLike | Sequence[RunLike], *, objective: int = 0) -> Any:
    """Intermediate values (``hh.report``) of every trial against their step.

    Trials a stopper ended early are drawn apart, their last report marked with a
    cross. At most 300 curves per run are drawn (the best final values first).

    Raises:
        NotApplicable: no trial reported an intermediate value.
    """
    g = go()
    runs = as_runs(run)
    fig = g.Figure()
    many = len(runs) > 1
    for (label, result), color in zip(runs, run_colors(len(runs)), strict=True):
        objective_name(result, objective)
        trials = [t for t in finished_order(result.records) if t.reports]
        if not trials:
            continue
        last = np.array([_report_value(t.reports[-1].value, objective) for t in trials])
        sign = 1.0 if result.directions[objective] == "minimize" else -1.0
        order = np.argsort(np.where(np.isnan(last), np.inf, sign * last), kind="stable")
        keep = decimate(len(trials), order[: MAX_CURVES // 3], limit=MAX_CURVES)
        groups: dict[bool, tuple[list[Any], list[Any], list[Any]]] = {
            False: ([], [], []),
            True: ([], [], []),
        }
        ends: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
        for i in keep:
            t = trials[i]
            stopped = status_of(t) == "stopped"
            xs, ys, ids = groups[stopped]
            steps = [r.step if r.step is not None else j for j, r in enumerate(t.reports)]
            vals = [_report_value(r.value, objective) for r in t.reports]
            xs += [*steps, None]
            ys += [*vals, None]
            ids += [t.id] * len(steps) + [None]
            if stopped:
                ends[0].append(steps[-1])
                ends[1].append(vals[-1])
                ends[2].append(t.id)
        for stopped, (xs, ys, ids) in groups.items():
            if not xs:
                continue
            name = "stopped early" if stopped else "ran to the end"
            fig.add_trace(
                g.Scatter(  # arrays, gaps as NaN: much faster for plotly than lists
                    x=np.array([np.nan if v is None else v for v in xs], dtype=float),
                    y=np.array([np.nan if v is None else v for v in ys], dtype=float),
                    customdata=np.array([-1 if v is None else v for v in ids]),
                    mode="lines",
                    name=f"{label}: {name}" if many else name,
                    line={"color": color, "width": 1, "dash": "dot" if stopped else "solid"},
                    opacity=0.5 if stopped else 0.8,
                    connectgaps=False,
                    hovertemplate="trial %{customdata}<br>step %{x}: %{y}<extra></extra>",
                )
            )
        if ends[0]:
            fig.add_trace(
                g.Scatter(
                    x=ends[0],
                    y=ends[1],
                    customdata=ends[2],
                    mode="markers",
                    marker={"symbol": "x", "color": "#d62728", "size": 7},
                    name=f"{label}: stopped here" if many else "stopped here",
                    hovertemplate="trial %{customdata} stopped at step %{x}<extra></extra>",
                )
            )
    if not fig.data:
        raise NotApplicable("no trial reported intermediate values")
    fig.update_layout(
        title="Learning curves (intermediate reports)",
        xaxis_title="step",
        yaxis_title=objective_name(runs[0][1], objective),
    )
    return fig


def _losses(result: Any, objectives: Sequence[int]) -> tuple[list[Any], np.ndarray]:
    """Done feasible trials in finishing order and their values as losses (minimized)."""
    k = len(result.directions)
    if k < 2:
        raise NotApplicable("a Pareto front needs a run with several objectives")
    for i in objectives:
        objective_name(result, i)
    trials = [
        t
        for t in finished_order(result.done)
        if t.feasible and all(np.isfinite((t.values or ())[i]) for i in objectives)
    ]
    sign = np.array([1.0 if result.directions[i] == "minimize" else -1.0 for i in objectives])
    values = np.array([[(t.values or ())[i] for i in objectives] for t in trials], np.float64)
    return trials, (values * sign if len(trials) else np.empty((0, len(objectives))))


def plot_pareto(run: RunLike | Sequence[RunLike], *, objectives: tuple[int, int] = (0, 1)) -> Any:
    """Two objectives of every done trial, with each run's Pareto front drawn as a line.

    Raises:
        NotApplicable: a run with one objective, or no done trial.
    """
    from hyperhive.search import pareto_mask

    g = go()
    runs = as_runs(run)
    if len(objectives) != 2:
        raise ValueError(f"objectives must name two objectives, got {objectives!r}")
    fig = g.Figure()
    many = len(runs) > 1
    for (label, result), color in zip(runs, run_colors(len(runs)), strict=True):
        trials, losses = _losses(result, objectives)
        if not trials:
            continue
        front = np.flatnonzero(pareto_mask(losses))
        values = np.array([[t.values[i] for i in objectives] for t in trials])
        ids = np.array([t.id for t in trials])
        keep = decimate(len(trials), front)
        fig.add_trace(
            g.Scatter(
                x=values[keep, 0],
                y=values[keep, 1],
                customdata=ids[keep],
                mode="markers",
                marker={"color": color, "size": 5, "opacity": 0.35},
                name=f"{label}: trials" if many else "trials",
                hovertemplate="trial %{customdata}<br>(%{x}, %{y})<extra></extra>",
            )
        )
        line = front[np.argsort(losses[front, 0], kind="stable")]
        fig.add_trace(
            g.Scatter(
                x=values[line, 0],
                y=values[line, 1],
                customdata=ids[line],
                mode="lines+markers",
                line={"shape": "hv" if result.directions[objectives[0]] == "minimize" else "vh"},
                marker={"color": color, "size": 8},
                name=f"{label}: Pareto front ({len(front)})"
                if many
                else f"Pareto front ({len(front)})",
                hovertemplate="trial %{customdata}<br>(%{x}, %{y})<extra></extra>",
            )
        )
    if not fig.data:
        raise NotApplicable("no done trial to plot")
    first = runs[0][1]
    fig.update_layout(
        title="Pareto front",
        xaxis_title=objective_name(first, objectives[0]),
        yaxis_title=objective_name(first, objectives[1]),
    )
    return fig


#: Points of the hypervolume curve at most per run.
MAX_STEPS = 200


def plot_hypervolume(
    run: RunLike | Sequence[RunLike], *, reference: Sequence[float] | None = None
) -> Any:
    """The hypervolume of the Pareto front as trials finish.

    Args:
        run: a run or several (compared against one reference point).
        reference: one value per objective, in the objectives' own units and
            directions (default: the worst value seen in each objective across the
            runs, widened by a tenth of its range).

    Raises:
        NotApplicable: a run with one objective, or no done trial.
    """
    from hyperhive.search import pareto_mask
    from hyperhive.search.pareto import hypervolume

    g = go()
    runs = as_runs(run)
    k = len(runs[0][1].directions)
    every = list(range(k))
    data = [(label, *_losses(result, every)) for label, result in runs]
    if not any(len(t) for _, t, _ in data):
        raise NotApplicable("no done trial to plot")
    sign = np.array([1.0 if d == "minimize" else -1.0 for d in runs[0][1].directions])
    if reference is None:
        stacked = np.vstack([losses for _, _, losses in data if len(losses)])
        worst, best = stacked.max(axis=0), stacked.min(axis=0)
        ref = worst + 0.1 * np.where(worst > best, worst - best, 1.0)
    else:
        if len(reference) != k:
            raise ValueError(f"reference needs one value per objective ({k}), got {reference!r}")
        ref = sign * np.asarray(reference, dtype=float)
    fig = g.Figure()
    for (label, _, losses), color in zip(data, run_colors(len(runs)), strict=True):
        if not len(losses):
            continue
        marks = np.unique(np.linspace(1, len(losses), min(MAX_STEPS, len(losses))).astype(int))
        front = np.empty((0, k))
        done = 0
        hv = []
        for m in marks:
            front = np.vstack([front, losses[done:m]])
            front = front[pareto_mask(front)]
            done = m
            hv.append(hypervolume(front, ref))
        fig.add_trace(
            g.Scatter(x=marks, y=hv, mode="lines", name=label, line={"color": color, "shape": "hv"})
        )
    fig.update_layout(
        title=f"Hypervolume (reference {[round(float(v), 4) for v in sign * ref]})",
        xaxis_title="trials finished",
        yaxis_title="hypervolume",
        showlegend=len(runs) > 1,
    )
    return fig
