"""The trial table as a pandas DataFrame (``Result.trials``, ``results.csv``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hyperhive.trial import Trial

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TAIL_COLUMNS", "trials_frame"]

TAIL_COLUMNS = (
    "reason",
    "submitted",
    "started",
    "finished",
    "duration",
    "worker",
    "host",
    "attempt",
    "retry_of",
    "peer",
    "steps",
)
"""The columns after parameters, metadata and constraints, in order."""

_NAN = math.nan


def _time(value: float | None) -> float:
    return _NAN if value is None else float(value)


def _last_step(t: Trial) -> float:
    """The step of the trial's last report that has one (NaN when none)."""
    for r in reversed(t.reports):
        if r.step is not None:
            return float(r.step)
    return _NAN


def trials_frame(trials: Iterable[Trial], directions: int) -> pd.DataFrame:
    """One row per trial, in the order given.

    Columns, in order: ``id``, ``status`` (its string value), ``objective`` (or
    ``objective_0`` ... ``objective_{k-1}`` when ``directions`` > 1), ``p:<param>``
    for every parameter of any configuration (NaN where a trial lacks it),
    ``m:<key>`` for every metadata key, ``c:<i>`` for constraints when any trial
    has them, then :data:`TAIL_COLUMNS`. Times are floats (seconds since the epoch,
    NaN when unknown); ``retry_of`` is a nullable integer; ``steps`` is the step of the
    trial's last report (``hh.report(value, step=...)``), NaN when it reported none.

    Args:
        trials: the trial records.
        directions: the number of objectives (at least 1).

    Raises:
        ValueError: ``directions`` is below 1.
    """
    import pandas as pd

    k = int(directions)
    if k < 1:
        raise ValueError(f"directions must be at least 1, got {directions!r}")
    records = list(trials)
    n = len(records)
    obj_names = ["objective"] if k == 1 else [f"objective_{i}" for i in range(k)]

    ids = [t.id for t in records]
    objectives: list[list[float]] = [[_NAN] * n for _ in range(k)]
    params: dict[str, list[Any]] = {}
    meta: dict[str, list[Any]] = {}
    cons: list[list[float]] = []
    for row, t in enumerate(records):
        values = t.values
        if values is not None:
            for i, v in enumerate(values[:k]):
                objectives[i][row] = v
        for name, value in t.config.items():
            col = params.get(name)
            if col is None:
                col = params[name] = [_NAN] * n
            col[row] = value
        for key, value in t.metadata.items():
            col = meta.get(key)
            if col is None:
                col = meta[key] = [_NAN] * n
            col[row] = _NAN if value is None else value
        if t.constraints is not None:
            while len(cons) < len(t.constraints):
                cons.append([_NAN] * n)
            for i, c in enumerate(t.constraints):
                cons[i][row] = _NAN if c is None else float(c)

    columns: dict[str, Any] = {
        "id": pd.array(ids, dtype="int64"),
        "status": [t.status.value for t in records],
    }
    for name, col in zip(obj_names, objectives, strict=True):
        columns[name] = pd.array(col, dtype="float64")
    for name, col in params.items():
        columns[f"p:{name}"] = col
    for key, col in meta.items():
        columns[f"m:{key}"] = col
    for i, col in enumerate(cons):
        columns[f"c:{i}"] = pd.array(col, dtype="float64")
    columns["reason"] = [t.reason for t in records]
    columns["submitted"] = pd.array([_time(t.submitted) for t in records], dtype="float64")
    columns["started"] = pd.array([_time(t.started) for t in records], dtype="float64")
    columns["finished"] = pd.array([_time(t.finished) for t in records], dtype="float64")
    columns["duration"] = pd.array([_time(t.duration) for t in records], dtype="float64")
    columns["worker"] = [t.worker for t in records]
    columns["host"] = [t.host for t in records]
    columns["attempt"] = pd.array([int(t.attempt) for t in records], dtype="int64")
    columns["retry_of"] = pd.array([t.retry_of for t in records], dtype="Int64")
    columns["peer"] = [t.peer for t in records]
    columns["steps"] = pd.array([_last_step(t) for t in records], dtype="float64")
    return pd.DataFrame(columns, index=pd.RangeIndex(n))
