"""The built-in demo problem: tune a gradient-boosted tree classifier with scikit-learn.

The dataset (handwritten digits, 1797 images of 8x8 pixels, 10 classes) ships with
scikit-learn, so nothing is downloaded. The objective is the 3-fold cross-validated
balanced accuracy of :class:`sklearn.ensemble.HistGradientBoostingClassifier`, to
maximize. It lives in an importable module so process workers can unpickle it.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from pathlib import Path
from typing import Any

import hyperhive as hh

DIRECTION = "maximize"
METRIC = "balanced accuracy (3-fold CV)"
MAX_ITER = 60


class MissingDependency(RuntimeError):
    """scikit-learn, which the demo needs, is not installed."""


def require_sklearn() -> None:
    """Raise :class:`MissingDependency` with the install command when scikit-learn is missing."""
    if importlib.util.find_spec("sklearn") is None:
        raise MissingDependency(
            "the demo needs scikit-learn, which is not installed; "
            "install it with: pip install 'hyperhive[demo]'  (or: pip install scikit-learn)"
        )


def make_space() -> Any:
    """The demo's search space over the classifier's main hyperparameters."""
    return hh.Space(
        {
            "learning_rate": hh.Float(0.01, 1.0, log=True),
            "max_leaf_nodes": hh.Int(4, 64, log=True),
            "max_depth": hh.Ordinal((2, 3, 4, 6, 8, 12)),
            "min_samples_leaf": hh.Int(2, 100, log=True),
            "l2_regularization": hh.Float(1e-4, 10.0, log=True),
            "max_bins": hh.Ordinal((16, 32, 64, 128, 255)),
        }
    )


@functools.lru_cache(maxsize=1)
def load_data() -> tuple[Any, Any]:
    """The digits dataset as ``(X, y)`` (cached per process)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data, data.target


def objective(config: dict[str, Any]) -> dict[str, Any]:
    """3-fold cross-validated balanced accuracy of one configuration.

    Reports the running mean after each fold (``hh.report``) and returns the mean
    with the standard deviation and the fit time as metadata.
    """
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    X, y = load_data()
    trial = hh.current_trial()
    seed = (trial.seed if trial is not None and trial.seed is not None else 0) % (2**32)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    scores: list[float] = []
    start = time.perf_counter()
    for step, (train, test) in enumerate(folds.split(X, y)):
        model = HistGradientBoostingClassifier(
            max_iter=MAX_ITER,
            early_stopping=False,
            random_state=seed,
            **config,
        )
        # One OpenMP thread per trial, so parallel workers do not oversubscribe the cores.
        with threadpool_limits(limits=1):
            model.fit(X[train], y[train])
            pred = model.predict(X[test])
        scores.append(float(balanced_accuracy_score(y[test], pred)))
        if trial is not None:  # also callable outside a search, without a warning
            hh.report(float(np.mean(scores)), step=step)
    return {
        "objective": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "fit_seconds": round(time.perf_counter() - start, 3),
    }


def write_report(result: Any) -> Path | None:
    """Write the HTML report of a demo run to ``<run_dir>/report.html`` (None in memory).

    Raises:
        ImportError: plotly (the ``report`` extra) is missing.
    """
    if result.run_dir is None:
        return None
    return Path(result.report(Path(result.run_dir) / "report.html"))
