"""The methods a fitted search delegates to its best estimator, as ``GridSearchCV`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def _delegate_has(attr: str) -> Callable[[Any], bool]:
    """True when the refitted best estimator (or, before fit, the estimator) has ``attr``."""

    def check(self: Any) -> bool:
        _check_refit(self, attr)
        target = getattr(self, "best_estimator_", self.estimator)
        getattr(target, attr)  # raises AttributeError when it is absent
        return True

    return check


def _check_refit(self: Any, attr: str) -> None:
    if not self.refit:
        raise AttributeError(
            f"This {type(self).__name__} was created with refit={self.refit!r}; {attr} is "
            "available "
            "only when the best estimator is refitted (refit=True)"
        )


class BestEstimatorMethods:
    """``predict``, ``predict_proba``, ``score``, ``transform``, ... of ``best_estimator_``.

    Each method exists only when the estimator has it (``hasattr`` tells the truth,
    as scikit-learn expects) and works only after a fit with ``refit`` on.
    """

    estimator: Any
    refit: Any
    scorer_: Any
    best_estimator_: Any

    def score(self, X: Any, y: Any = None) -> float:
        """Score ``X`` (and ``y``) with the best estimator and ``scoring``."""
        _check_refit(self, "score")
        check_is_fitted(self)
        return float(self.scorer_(self.best_estimator_, X, y))

    @available_if(_delegate_has("predict"))
    def predict(self, X: Any) -> Any:
        """``best_estimator_.predict(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_delegate_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_proba(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_delegate_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """``best_estimator_.predict_log_proba(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_delegate_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """``best_estimator_.decision_function(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_delegate_has("score_samples"))
    def score_samples(self, X: Any) -> Any:
        """``best_estimator_.score_samples(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @available_if(_delegate_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_delegate_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    @property
    def classes_(self) -> Any:
        """The class labels of the best estimator."""
        _check_refit(self, "classes_")
        check_is_fitted(self)
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        """The number of features the best estimator was fitted on."""
        check_is_fitted(self)
        _check_refit(self, "n_features_in_")
        return int(self.best_estimator_.n_features_in_)
