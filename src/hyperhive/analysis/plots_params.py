"""Which parameters matter and how: importance, parallel coordinates, slices, contours."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperhive.analysis._plotting import (
    NotApplicable,
    cached_importance,
    decimate,
    done_values,
    go,
    objective_name,
    run_colors,
)
from hyperhive.analysis.source import RunLike, as_runs

__all__ = ["plot_contour", "plot_importance", "plot_parallel", "plot_slice"]

_FINITE_KINDS = ("categorical", "ordinal")


def _params(result: Any) -> list[str]:
    """Non-constant parameters of the run's space."""
    return [
        n for n, k in zip(result.space.names, result.space.kinds, strict=True) if k != "constant"
    ]


def _best_first(values: np.ndarray, direction: str) -> np.ndarray:
    return np.argsort(values if direction == "minimize" else -values, kind="stable")


def plot_importance(
    run: RunLike | Sequence[RunLike], *, method: str = "fanova", objective: int = 0
) -> Any:
    """Each parameter's share of the objective's variance (see :func:`importance`).

    Raises:
        NotApplicable: fewer than two done trials.
    """
    g = go()
    runs = as_runs(run)
    fig = g.Figure()
    for (label, result), color in zip(runs, run_colors(len(runs)), strict=True):
        try:
            imp = cached_importance(result, method, objective)
        except ValueError as exc:
            if len(runs) == 1:
                raise NotApplicable(str(exc)) from exc
            continue
        imp = imp.iloc[::-1]
        fig.add_trace(
            g.Bar(
                orientation="h",
                x=imp.to_numpy(),
                y=list(imp.index),
                name=label,
                marker={"color": color},
                hovertemplate="%{y}: %{x:.3f}<extra></extra>",
            )
        )
    if not fig.data:
        raise NotApplicable("no run has enough done trials for importance")
    fig.update_layout(
        title=f"Parameter importance ({method}, {objective_name(runs[0][1], objective)})",
        xaxis_title="share of the variance",
        yaxis={"automargin": True},
        barmode="group",
        showlegend=len(runs) > 1,
        height=max(300, min(900, 80 + 28 * len(fig.data[0].y) * len(fig.data))),
    )
    return fig


def _column(result: Any, name: str, trials: Sequence[Any]) -> dict[str, Any]:
    """A parallel-coordinates dimension; inactive values sit below the range."""
    param = result.space.params[name]
    kind = result.space.kinds[result.space.names.index(name)]
    raw = [t.config.get(name) for t in trials]
    if kind in _FINITE_KINDS:
        domain = list(param.domain)
        codes = [domain.index(v) if v in domain else -1 for v in raw]
        ticks = list(range(len(domain)))
        labels = [str(v) for v in domain]
        if -1 in codes:
            ticks, labels = [-1, *ticks], ["inactive", *labels]
        return {"label": name, "values": codes, "tickvals": ticks, "ticktext": labels}
    log = bool(getattr(param, "log", False))
    vals = np.array([math.nan if v is None else float(v) for v in raw])
    if log:
        vals = np.log10(vals)
    label = f"log10({name})" if log else name
    if np.isnan(vals).any():
        lo, hi = np.nanmin(vals) if (~np.isnan(vals)).any() else 0.0, np.nanmax(vals)
        vals = np.where(np.isnan(vals), lo - 0.1 * ((hi - lo) or 1.0), vals)
        label += " (inactive below)"
    return {"label": label, "values": vals}


def plot_parallel(run: RunLike | Sequence[RunLike], *, objective: int = 0) -> Any:
    """Parallel coordinates of the done trials, coloured by the objective.

    With several runs, the first axis says which run a trial comes from. At most
    2,000 trials are drawn: the best 500 and an even spread of the others.

    Raises:
        NotApplicable: no done trial.
    """
    g = go()
    runs = as_runs(run)
    rows: list[tuple[int, Any]] = []
    values: list[float] = []
    for i, (_, result) in enumerate(runs):
        trials, vals = done_values(result, objective)
        rows += [(i, t) for t in trials]
        values += list(vals)
    if not rows:
        raise NotApplicable("no done trial to plot")
    y = np.array(values)
    first = runs[0][1]
    keep = decimate(len(y), _best_first(y, first.directions[objective])[:500])
    rows = [rows[i] for i in keep]
    y = y[keep]
    dims = []
    if len(runs) > 1:
        dims.append(
            {
                "label": "run",
                "values": [i for i, _ in rows],
                "tickvals": list(range(len(runs))),
                "ticktext": [label for label, _ in runs],
            }
        )
    for name in _params(first):
        dims.append(_column(first, name, [t for _, t in rows]))
    dims.append({"label": "objective", "values": y})
    reverse = first.directions[objective] == "maximize"
    fig = g.Figure(
        g.Parcoords(
            line={
                "color": y,
                "colorscale": "Viridis_r" if not reverse else "Viridis",
                "showscale": True,
            },
            dimensions=dims,
        )
    )
    fig.update_layout(title=f"Parallel coordinates ({len(y)} trials)")
    return fig


def plot_slice(
    run: RunLike | Sequence[RunLike], *, objective: int = 0, params: Sequence[str] | None = None
) -> Any:
    """The objective against each parameter, one panel per parameter.

    Args:
        run: a run or several to compare (coloured by run; one run is coloured by
            trial order).
        objective: which objective.
        params: the parameters to show (default: every non-constant one).

    Raises:
        NotApplicable: no done trial.
    """
    from plotly.subplots import make_subplots

    g = go()
    runs = as_runs(run)
    names = list(params) if params is not None else _params(runs[0][1])
    unknown = [n for n in names if n not in runs[0][1].space.names]
    if unknown:
        raise ValueError(f"params names unknown parameters {unknown}")
    if not names:
        raise NotApplicable("the space has no parameter to plot")
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=names, shared_yaxes=True)
    many = len(runs) > 1
    drawn = False
    for (label, result), color in zip(runs, run_colors(len(runs)), strict=True):
        trials, vals = done_values(result, objective)
        if not len(vals):
            continue
        keep = decimate(len(vals), _best_first(vals, result.directions[objective])[:200])
        trials, vals = [trials[i] for i in keep], vals[keep]
        for k, name in enumerate(names):
            raw = [t.config.get(name) for t in trials]
            mask = np.array([x is not None for x in raw], dtype=bool)
            xs = np.array(raw, dtype=object)[mask]
            if xs.size and all(isinstance(x, int | float) for x in xs):
                xs = xs.astype(float)  # numbers as an array: fast for plotly
            marker: dict[str, Any] = {"size": 5, "opacity": 0.6}
            if many:
                marker["color"] = color
            else:
                marker.update(color=keep, colorscale="Blues", showscale=k == 0)
                marker["colorbar"] = {"title": "trial #"} if k == 0 else None
            fig.add_trace(
                g.Scatter(
                    x=xs,
                    y=vals[mask],
                    mode="markers",
                    marker=marker,
                    name=label,
                    showlegend=many and k == 0,
                    legendgroup=label,
                ),
                row=k // cols + 1,
                col=k % cols + 1,
            )
            drawn = True
            param = result.space.params[name]
            if getattr(param, "log", False):
                fig.update_xaxes(type="log", row=k // cols + 1, col=k % cols + 1)
            elif result.space.kinds[result.space.names.index(name)] in _FINITE_KINDS:
                fig.update_xaxes(  # in the space's order (ordinal values stay sorted)
                    type="category",
                    categoryorder="array",
                    categoryarray=list(getattr(param, "domain", ())),
                    row=k // cols + 1,
                    col=k % cols + 1,
                )
    if not drawn:
        raise NotApplicable("no done trial to plot")
    fig.update_layout(
        title=f"Slices: {objective_name(runs[0][1], objective)} against each parameter",
        height=280 * nrows + 80,
    )
    return fig


def _numeric(result: Any) -> list[str]:
    return [
        n
        for n, k in zip(result.space.names, result.space.kinds, strict=True)
        if k in ("float", "int", "ordinal")
        and not (
            k == "ordinal" and not all(isinstance(v, int | float) for v in result.space[n].domain)
        )
    ]


def _idw(xy: np.ndarray, z: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """``z`` on the grid ``gx`` x ``gy``: inverse-distance weights of the 8 nearest trials.

    Axes are scaled to [0, 1] first. A k-d tree keeps this fast for 10,000 trials
    (a Delaunay triangulation's point location took seconds there).
    """
    from scipy.spatial import cKDTree

    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    span[span == 0] = 1.0
    mx, my = np.meshgrid(gx, gy)
    grid = (np.column_stack([mx.ravel(), my.ravel()]) - lo) / span
    k = min(8, len(z))
    dist, idx = cKDTree((xy - lo) / span).query(grid, k=k)
    dist, idx = np.reshape(dist, (len(grid), k)), np.reshape(idx, (len(grid), k))
    weight = 1.0 / np.maximum(dist, 1e-9) ** 2
    return ((weight * z[idx]).sum(axis=1) / weight.sum(axis=1)).reshape(mx.shape)


def plot_contour(
    run: RunLike | Sequence[RunLike],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
) -> Any:
    """The objective over two numeric parameters, interpolated between the done trials
    (inverse-distance weighting of the nearest trials).

    Args:
        run: a run or several (one panel each).
        params: the two parameters (default: the two most important numeric ones).
        objective: which objective.

    Raises:
        NotApplicable: fewer than two numeric parameters or fewer than 4 done trials.
    """
    from plotly.subplots import make_subplots

    g = go()
    runs = as_runs(run)
    first = runs[0][1]
    numeric = _numeric(first)
    if params is None:
        if len(numeric) < 2:
            raise NotApplicable("a contour needs two numeric parameters")
        try:
            ranked = [
                n for n in cached_importance(first, "fanova", objective).index if n in numeric
            ]
        except ValueError:
            ranked = numeric
        params = ranked[:2]
    if len(params) != 2 or any(p not in numeric for p in params):
        raise ValueError(f"params must name two numeric parameters of {numeric}, got {params!r}")
    a, b = params
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=[label for label, _ in runs])
    logs = [bool(getattr(first.space[p], "log", False)) for p in (a, b)]
    drawn = False
    for col, (_, result) in enumerate(runs, start=1):
        trials, vals = done_values(result, objective)
        pts = [(t.config.get(a), t.config.get(b), v) for t, v in zip(trials, vals, strict=True)]
        pts = [p for p in pts if p[0] is not None and p[1] is not None]
        if len(pts) < 4:
            continue
        arr = np.array(pts, dtype=float)
        xy = np.column_stack([np.log10(arr[:, i]) if logs[i] else arr[:, i] for i in (0, 1)])
        gx = np.linspace(xy[:, 0].min(), xy[:, 0].max(), 60)
        gy = np.linspace(xy[:, 1].min(), xy[:, 1].max(), 60)
        z = _idw(xy, arr[:, 2], gx, gy)
        fig.add_trace(
            g.Contour(
                x=10**gx if logs[0] else gx,
                y=10**gy if logs[1] else gy,
                z=z,
                colorscale="Viridis",
                showscale=col == 1,
                connectgaps=False,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        keep = decimate(len(arr))
        fig.add_trace(
            g.Scatter(
                x=arr[keep, 0],
                y=arr[keep, 1],
                mode="markers",
                marker={"color": "white", "size": 4, "line": {"color": "black", "width": 0.5}},
                showlegend=False,
                hovertemplate=f"{a}=%{{x}}<br>{b}=%{{y}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title=a, type="log" if logs[0] else None, row=1, col=col)
        fig.update_yaxes(title=b, type="log" if logs[1] else None, row=1, col=col)
        drawn = True
    if not drawn:
        raise NotApplicable("a contour needs at least 4 done trials")
    fig.update_layout(title=f"Contour of {objective_name(first, objective)} over {a} and {b}")
    return fig
