"""The objective a :class:`~hyperhive.sklearn.SearchCV` search evaluates: one configuration,
cross-validated fold by fold, each fold's score reported as it is known."""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import cross_validate

import hyperhive as hh

# scikit-learn >= 1.4 names the fit parameters of cross_validate ``params``; older
# releases ``fit_params``. Both are public; pick the one this release has.
_PARAMS_KW = "params" if "params" in inspect.signature(cross_validate).parameters else "fit_params"

Split = tuple[np.ndarray, np.ndarray]


class CVObjective:
    """Cross-validate ``estimator`` with one configuration on fixed splits.

    Each fold's test score goes to ``hh.report(score, step=fold)`` as soon as it is
    known, and the loop ends early when ``hh.should_stop()`` says so, so a stopper
    can end a bad configuration after its first folds. The return value is a mapping:
    the mean test score as ``objective`` and, per fold, ``split<k>_test_score``,
    ``split<k>_fit_time``, ``split<k>_score_time`` (and ``split<k>_train_score``) as
    metadata. A fold whose fit raises scores ``error_score`` (with a
    ``FitFailedWarning``), or the exception propagates when ``error_score="raise"``.

    It is a module-level class (not a closure) so process workers unpickle it by
    reference; the data travel with it.
    """

    def __init__(
        self,
        estimator: Any,
        X: Any,
        y: Any,
        splits: Sequence[Split],
        scoring: Any,
        fit_params: Mapping[str, Any],
        error_score: Any,
        return_train_score: bool,
        blas_threads: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.X = X
        self.y = y
        self.splits = list(splits)
        self.scoring = scoring
        self.fit_params = dict(fit_params)
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.blas_threads = blas_threads

    def __call__(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if self.blas_threads is None:
            return self._evaluate(config)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.blas_threads):
            return self._evaluate(config)

    def _evaluate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        scores: list[float] = []
        last = len(self.splits) - 1
        for k, split in enumerate(self.splits):
            fold = self.fold(config, split)
            scores.append(fold["test_score"])
            for key, value in fold.items():
                out[f"split{k}_{key}"] = value
            hh.report(fold["test_score"], step=k)
            if k < last and hh.should_stop():
                break
        out["objective"] = float(np.mean(scores))
        return out

    def fold(
        self, config: Mapping[str, Any], split: Split, *, raise_errors: bool = False
    ) -> dict[str, Any]:
        """Fit a fresh clone with ``config`` on one split and score it.

        ``raise_errors`` lets an exception through whatever ``error_score`` is.
        """
        est = clone(self.estimator).set_params(**config)
        began = time.perf_counter()
        try:
            res = cross_validate(
                est,
                self.X,
                self.y,
                cv=[split],
                scoring=self.scoring,
                return_train_score=self.return_train_score,
                error_score="raise",
                **{_PARAMS_KW: self.fit_params},
            )
        except Exception as exc:
            if raise_errors or isinstance(self.error_score, str):  # "raise": the trial fails
                raise
            warnings.warn(
                f"fitting {type(self.estimator).__name__} with {dict(config)!r} failed; its "
                f"score on this fold is error_score={self.error_score!r}: "
                f"{type(exc).__name__}: {exc}",
                FitFailedWarning,
                stacklevel=2,
            )
            failed: dict[str, Any] = {
                "error": f"{type(exc).__name__}: {exc}",
                "test_score": float(self.error_score),
                "fit_time": time.perf_counter() - began,
                "score_time": 0.0,
            }
            if self.return_train_score:
                failed["train_score"] = float(self.error_score)
            return failed
        fold: dict[str, Any] = {
            "test_score": float(res["test_score"][0]),
            "fit_time": float(res["fit_time"][0]),
            "score_time": float(res["score_time"][0]),
        }
        if self.return_train_score:
            fold["train_score"] = float(res["train_score"][0])
        return fold
