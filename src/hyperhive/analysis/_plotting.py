"""What the figure functions share: plotly on demand, colours, ordering and decimation."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.trial import Trial, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from hyperhive.search import Result

__all__ = [
    "MAX_POINTS",
    "NotApplicable",
    "STATUS_COLORS",
    "cached_importance",
    "decimate",
    "finished_order",
    "go",
    "objective_name",
    "run_colors",
    "start_time",
]

#: Points a scatter keeps at most per run (the rest is decimated).
MAX_POINTS = 2000

STATUS_COLORS = {
    "done": "#2ca02c",
    "running": "#1f77b4",
    "pending": "#aec7e8",
    "failed": "#d62728",
    "timeout": "#ff7f0e",
    "stopped": "#9467bd",
    "lost": "#7f7f7f",
    "cancelled": "#c7c7c7",
}
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


class NotApplicable(ValueError):
    """The figure does not apply to this run (e.g. a Pareto front of one objective)."""


def go() -> Any:
    """``plotly.graph_objects``, or an ImportError naming the extra to install."""
    try:
        import plotly.graph_objects as graph_objects
    except ImportError as exc:
        raise ImportError(
            "hyperhive's figures and reports need plotly: pip install 'hyperhive[report]'"
        ) from exc
    return graph_objects


def run_colors(n: int) -> list[str]:
    """``n`` distinct colours, one per compared run."""
    return [_PALETTE[i % len(_PALETTE)] for i in range(n)]


def objective_name(result: Result, objective: int) -> str:
    """``"objective"`` for one objective, ``"objective i (maximize)"`` for several."""
    k = len(result.directions)
    if isinstance(objective, bool) or not isinstance(objective, int | np.integer):
        raise TypeError(f"objective must be an integer index, got {objective!r}")
    if not 0 <= objective < k:
        raise ValueError(f"objective must be in [0, {k - 1}] for this run, got {objective!r}")
    if k == 1:
        return f"objective ({result.directions[0]})"
    return f"objective {objective} ({result.directions[objective]})"


def start_time(result: Result) -> float:
    """The earliest time recorded in the run (0 when none)."""
    times = [x for t in result.records for x in (t.submitted, t.started) if x is not None]
    return float(min(times)) if times else 0.0


def finished_order(trials: Sequence[Trial]) -> list[Trial]:
    """Trials in the order they finished (id breaks ties, unknown times last)."""
    return sorted(trials, key=lambda t: (t.finished is None, t.finished or 0.0, t.id))


def decimate(n: int, keep: Sequence[int] | np.ndarray = (), limit: int = MAX_POINTS) -> np.ndarray:
    """Sorted indices of at most about ``limit`` of ``n`` items: ``keep`` plus an even spread."""
    if n <= limit:
        return np.arange(n)
    kept = np.unique(np.asarray(keep, dtype=int))
    spread = np.linspace(0, n - 1, max(limit - len(kept), 2)).astype(int)
    return np.unique(np.concatenate([kept, spread]))


def done_values(result: Result, objective: int) -> tuple[list[Trial], np.ndarray]:
    """Done trials with a finite value of ``objective``, in finishing order, and the values."""
    objective_name(result, objective)  # validates the index
    trials = [
        t
        for t in finished_order(result.done)
        if t.values is not None and np.isfinite(t.values[objective])
    ]
    return trials, np.array([t.values[objective] for t in trials], dtype=float)  # type: ignore[index]


_IMPORTANCE: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], pd.Series]] = (
    weakref.WeakKeyDictionary()
)


def cached_importance(result: Result, method: str = "fanova", objective: int = 0) -> pd.Series:
    """:func:`~hyperhive.analysis.importance` of ``result``, computed once per result."""
    from hyperhive.analysis.parameter_importance import importance

    cache = _IMPORTANCE.setdefault(result, {})
    key = (method, objective, len(result.records), len(result.done))
    if key not in cache:
        cache.clear()
        cache[key] = importance(result, method, objective=objective)
    return cache[key]


def status_of(trial: Trial) -> str:
    """The trial's status as a string."""
    return trial.status.value if isinstance(trial.status, TrialStatus) else str(trial.status)
