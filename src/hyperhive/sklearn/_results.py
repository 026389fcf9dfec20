"""``cv_results_`` in the layout of scikit-learn's ``GridSearchCV``, built from trials."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from hyperhive.trial import Trial

SPLIT_KEYS = ("test_score", "train_score", "fit_time", "score_time")


def cv_results(
    trials: Sequence[Trial], param_names: Sequence[str], n_splits: int, train_score: bool
) -> dict[str, Any]:
    """One entry per trial, in trial order.

    Keys: ``params``; ``param_<name>`` as masked arrays (masked where a conditional
    parameter is absent from the configuration); ``split<k>_test_score``,
    ``mean_test_score``, ``std_test_score``, ``rank_test_score`` (and the same for
    ``train`` scores when asked); ``mean_fit_time``, ``std_fit_time``,
    ``mean_score_time``, ``std_score_time``; and, beyond ``GridSearchCV``'s keys,
    ``trial_id`` and ``trial_status``. A fold that did not run (a trial that failed,
    timed out or was stopped before it) is NaN, and so is the mean of a trial
    without every fold.

    Args:
        trials: the counted trials of the search, ordered by id.
        param_names: every parameter name of the space.
        n_splits: the number of cross-validation folds.
        train_score: whether the trials recorded training scores.
    """
    n = len(trials)
    results: dict[str, Any] = {}
    kinds = ["test_score", "fit_time", "score_time"] + (["train_score"] if train_score else [])
    table = {kind: np.full((n, n_splits), np.nan) for kind in kinds}
    for row, t in enumerate(trials):
        for kind in kinds:
            for k in range(n_splits):
                value = t.metadata.get(f"split{k}_{kind}")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    table[kind][row, k] = float(value)

    for kind in ("fit_time", "score_time"):
        results[f"mean_{kind}"] = _mean(table[kind])
        results[f"std_{kind}"] = _std(table[kind])
    for name in sorted(param_names):
        column: np.ma.MaskedArray = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for row, t in enumerate(trials):
            if name in t.config:
                column[row] = t.config[name]
        results[f"param_{name}"] = column
    results["params"] = [dict(t.config) for t in trials]
    for kind in ("test_score", "train_score"):
        if kind not in table:
            continue
        scores = table[kind]
        for k in range(n_splits):
            results[f"split{k}_{kind}"] = scores[:, k].copy()
        means = _mean(scores)
        results[f"mean_{kind}"] = means
        results[f"std_{kind}"] = _std(scores)
        if kind == "test_score":
            results["rank_test_score"] = rank(means)
    results["trial_id"] = np.array([t.id for t in trials], dtype=np.int64)
    results["trial_status"] = np.array([str(t.status) for t in trials], dtype=object)
    return results


def rank(means: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest mean; NaN means rank after every number (ties share the
    lowest rank, as in ``GridSearchCV``)."""
    if means.size == 0:
        return np.zeros(0, dtype=np.int32)
    if np.isnan(means).all():
        return np.ones(means.shape, dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1.0, means)
    return rankdata(-filled, method="min").astype(np.int32)


def _mean(values: np.ndarray) -> np.ndarray:
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    return values.mean(axis=1)


def _std(values: np.ndarray) -> np.ndarray:
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    return values.std(axis=1)
