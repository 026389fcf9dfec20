"""``SearchCV``: hyperhive's asynchronous search behind scikit-learn's search-estimator API."""

from __future__ import annotations

import numbers
import os
import time
import uuid
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier, is_regressor
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

import hyperhive as hh
from hyperhive.sklearn._delegation import BestEstimatorMethods
from hyperhive.sklearn._objective import CVObjective
from hyperhive.sklearn._results import cv_results
from hyperhive.trial import Trial, TrialStatus


class SearchCV(BestEstimatorMethods, MetaEstimatorMixin, BaseEstimator):
    """Tune an estimator's hyperparameters by cross-validation with hyperhive's search.

    It follows scikit-learn's conventions for search estimators (``GridSearchCV``,
    ``RandomizedSearchCV``): the parameters are stored by ``__init__`` and checked in
    :meth:`fit`, which runs a fresh search every time (so ``cross_validate`` of a
    ``SearchCV`` never shares trials between outer folds), and the fitted attributes
    have the same names and layout. Each trial cross-validates one configuration on
    the same splits, fold by fold, reporting every fold's test score with
    ``hh.report(score, step=fold)``; the search maximizes the mean test score.

    Example:
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.svm import SVC
        >>> from hyperhive.sklearn import SearchCV
        >>> X, y = load_iris(return_X_y=True)
        >>> search = SearchCV(SVC(), {"C": (1e-2, 1e2, "log-uniform")}, max_evals=8, cv=3,
        ...                   seed=0).fit(X, y)
        >>> sorted(search.best_params_)
        ['C']

    Args:
        estimator: a scikit-learn estimator (or pipeline); it is cloned, never fitted.
        space: a :class:`hyperhive.Space` or a dict in the short form
            (``{"clf__C": (1e-3, 1e3, "log-uniform"), "clf__kernel": ["rbf", "poly"]}``);
            names address the estimator's parameters as ``set_params`` does
            (``step__param`` inside a pipeline).
        max_evals: trials to run (each one a full cross-validation).
        cv: folds as in ``GridSearchCV``: an int (stratified for classifiers), a
            splitter, or an iterable of (train, test) index arrays.
        scoring: one metric: None (the estimator's ``score``), a scorer name or a
            callable ``scorer(estimator, X, y)``. Several metrics are not supported.
        refit: refit the best configuration on all the data (``best_estimator_``);
            a callable ``refit(cv_results_) -> index`` picks the configuration itself.
        workers: trials evaluated at once (as in :func:`hyperhive.search`).
        executor: ``"auto"``, ``"serial"``, ``"thread"``, ``"process"``, ``"dask"``,
            ... or an executor instance, as in :func:`hyperhive.search`.
        optimizer: ``"auto"`` (Bayesian optimization), ``"random"``, ... or an
            optimizer instance.
        timeout: wall-time limit of each search in seconds (None: none).
        error_score: the score of a fold whose fit raised (with a
            ``FitFailedWarning``); ``"raise"`` re-raises the error from :meth:`fit`.
        run_dir: a folder under which every ``fit`` journals its search in a new
            sub-folder (``run_dir_`` names it); None keeps the search in memory.
        seed: seed of the search (None: a fresh one per fit).
        return_train_score: also score each fold's training part.

    Attributes:
        cv_results_: a dict of arrays, one entry per trial, with ``GridSearchCV``'s
            keys (``params``, ``param_<name>``, ``split<k>_test_score``,
            ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
            ``mean_fit_time``, ...) plus ``trial_id`` and ``trial_status``.
        best_index_: the index of the best trial in ``cv_results_``.
        best_params_: its configuration.
        best_score_: its mean cross-validated score.
        best_estimator_: the estimator refitted with it (when ``refit``).
        refit_time_: seconds spent refitting.
        n_splits_: the number of folds.
        scorer_: the scorer used.
        multimetric_: always False.
        run_dir_: the run directory of the last search (None in memory).
        trials_: the last search's trial table (``hyperhive.Result.trials``).
    """

    def __init__(
        self,
        estimator: Any,
        space: Any,
        *,
        max_evals: int = 50,
        cv: Any = 5,
        scoring: Any = None,
        refit: bool | Callable[[dict[str, Any]], int] = True,
        workers: int = 1,
        executor: Any = "auto",
        optimizer: Any = "auto",
        timeout: float | None = None,
        error_score: float | str = np.nan,
        run_dir: str | os.PathLike[str] | None = None,
        seed: int | None = None,
        return_train_score: bool = False,
    ) -> None:
        self.estimator = estimator
        self.space = space
        self.max_evals = max_evals
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.workers = workers
        self.executor = executor
        self.optimizer = optimizer
        self.timeout = timeout
        self.error_score = error_score
        self.run_dir = run_dir
        self.seed = seed
        self.return_train_score = return_train_score

    # -- scikit-learn plumbing ----------------------------------------------------
    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = deepcopy(inner.classifier_tags)
        tags.regressor_tags = deepcopy(inner.regressor_tags)
        tags.target_tags = deepcopy(inner.target_tags)
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    # -- fit ----------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> SearchCV:
        """Search the space by cross-validation, then refit the best configuration.

        Args:
            X: training data, shape (n_samples, n_features) (or what the estimator takes).
            y: targets, or None for unsupervised estimators.
            **fit_params: passed to the estimator's ``fit`` (sample-aligned ones are
                split with the folds); ``groups`` goes to the cv splitter.

        Returns:
            self.

        Raises:
            ValueError, TypeError: a parameter is invalid (named in the message).
            ValueError: every trial failed.
        """
        self._validate()
        space = hh.as_space(self.space)
        self._check_names(space.names)
        if y is None and _requires_y(self.estimator):
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but the target y is None"
            )
        groups = fit_params.pop("groups", None)
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        self.n_splits_ = len(splits)
        self.scorer_ = check_scoring(self.estimator, scoring=self.scoring)
        self.multimetric_ = False

        objective = CVObjective(
            self.estimator,
            X,
            y,
            splits,
            self.scoring,
            fit_params,
            self.error_score,
            self.return_train_score,
            blas_threads=max(1, (os.cpu_count() or 1) // self.workers)
            if self.workers > 1
            else None,
        )
        finished: list[Trial] = []
        callbacks: list[Callable[[Trial, Any], object]] = [
            lambda trial, state: finished.append(trial)
        ]
        if self.error_score == "raise":
            callbacks.append(_stop_on_failure)
        self.run_dir_ = self._fresh_run_dir()
        result = hh.search(
            objective,
            space,
            direction="maximize",
            optimizer=self.optimizer,
            max_evals=self.max_evals,
            timeout=self.timeout,
            workers=self.workers,
            executor=self.executor,
            run_dir=self.run_dir_,
            seed=self.seed,
            callbacks=callbacks,
            # stopper=self.stopper: one line once hh.search takes a stopper.
        )
        self.trials_ = result.trials
        trials = sorted((t for t in finished if t.counted), key=lambda t: t.id)
        if self.error_score == "raise":
            self._raise_first_failure(objective, trials, splits)
        self.cv_results_ = cv_results(
            trials, list(space.names), self.n_splits_, self.return_train_score
        )
        self._select_best(trials, objective, splits)
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**self.best_params_)
            began = time.perf_counter()
            if y is None:
                self.best_estimator_.fit(X, **fit_params)
            else:
                self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - began
        return self

    def _validate(self) -> None:
        if not hasattr(self.estimator, "fit"):
            raise TypeError(
                f"estimator must be a scikit-learn estimator with a fit method, got "
                f"estimator={self.estimator!r}"
            )
        for name in ("max_evals", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
        if isinstance(self.scoring, list | tuple | set | dict):
            raise ValueError(
                "scoring must be one metric (None, a scorer name or a callable); several "
                f"metrics are not supported, got scoring={self.scoring!r}"
            )
        if not (isinstance(self.refit, bool) or callable(self.refit)):
            raise TypeError(
                f"refit must be True, False or a callable of cv_results_, got refit={self.refit!r}"
            )
        if isinstance(self.error_score, str):
            if self.error_score != "raise":
                raise ValueError(
                    f"error_score must be a number or 'raise', got error_score={self.error_score!r}"
                )
        elif isinstance(self.error_score, bool) or not isinstance(self.error_score, numbers.Real):
            raise TypeError(
                f"error_score must be a number or 'raise', got error_score={self.error_score!r}"
            )
        if not isinstance(self.return_train_score, bool | np.bool_):
            raise TypeError(
                "return_train_score must be a bool, got "
                f"return_train_score={self.return_train_score!r}"
            )

    def _check_names(self, names: Any) -> None:
        """Every parameter of the space must address a parameter of the estimator."""
        deep = self.estimator.get_params(deep=True)
        shallow = self.estimator.get_params(deep=False)
        for name in names:
            # A step may be replaced by the configuration itself (``clf`` and ``clf__C``),
            # so a name whose first component is a parameter is accepted as well.
            if name not in deep and name.split("__", 1)[0] not in shallow:
                raise ValueError(
                    f"space parameter {name!r} is not a parameter of "
                    f"{type(self.estimator).__name__} (see estimator.get_params().keys())"
                )

    def _fresh_run_dir(self) -> Path | None:
        if self.run_dir is None:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Path(self.run_dir) / f"fit-{stamp}-{uuid.uuid4().hex[:8]}"

    def _raise_first_failure(
        self, objective: CVObjective, trials: list[Trial], splits: list[Any]
    ) -> None:
        """With ``error_score="raise"``: re-raise a failed trial's error from ``fit``.

        The failing fit is repeated here, in the caller's process, so the original
        exception (type and message) reaches the caller whatever executor ran it.
        """
        failed = [t for t in trials if t.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT)]
        if not failed:
            return
        trial = failed[0]
        if trial.status == TrialStatus.FAILED:
            self._reraise(objective, [trial], splits)
        raise RuntimeError(
            f"trial {trial.id} with {trial.config!r} ended {trial.status}: {trial.reason}\n"
            f"{trial.traceback or ''}"
        )

    @staticmethod
    def _reraise(objective: CVObjective, trials: list[Trial], splits: list[Any]) -> None:
        """Repeat the first failed trial's folds here, so that its error (type and message)
        reaches the caller whatever executor ran it; returns if none raises."""
        for trial in trials[:1]:
            for split in splits:
                try:
                    objective.fold(trial.config, split, raise_errors=True)
                except Exception as exc:
                    if hasattr(exc, "add_note"):
                        exc.add_note(
                            f"hyperhive.sklearn.SearchCV: trial {trial.id} with "
                            f"{trial.config!r} failed with this error"
                        )
                    raise

    def _select_best(self, trials: list[Trial], objective: CVObjective, splits: list[Any]) -> None:
        means = self.cv_results_["mean_test_score"]
        if not trials:
            raise RuntimeError(
                f"the search ended before any trial finished (timeout={self.timeout!r}); "
                "give it more time or fewer folds"
            )
        if np.isnan(means).all():
            self._reraise(objective, trials, splits)
            reasons = sorted(
                {str(v) for t in trials for k, v in t.metadata.items() if k.endswith("_error")}
                | {t.reason for t in trials if t.reason}
            )
            raise ValueError(
                f"all {len(trials)} trials of the search failed (error_score="
                f"{self.error_score!r}); the errors: {'; '.join(reasons[:3]) or 'none recorded'}"
            )
        if callable(self.refit):
            index = self.refit(self.cv_results_)
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise TypeError(f"refit callable must return an int index, got {index!r}")
            best = int(index)
            if not 0 <= best < len(trials):
                raise IndexError(
                    f"refit callable returned index {best}, outside [0, {len(trials)})"
                )
        else:
            best = int(np.argmin(self.cv_results_["rank_test_score"]))
            self.best_score_ = float(means[best])
        self.best_index_ = best
        self.best_params_ = dict(self.cv_results_["params"][best])


def _requires_y(estimator: Any) -> bool:
    try:
        from sklearn.utils import get_tags
    except ImportError:  # scikit-learn < 1.6: no tags API
        return bool(is_classifier(estimator) or is_regressor(estimator))
    return bool(get_tags(estimator).target_tags.required)


def _stop_on_failure(trial: Trial, state: Any) -> None:
    """With ``error_score="raise"``, the first failed trial ends the search."""
    if trial.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT):
        state.stop(f"trial {trial.id} failed and error_score='raise'")


__all__ = ["SearchCV"]
