"""scikit-learn's own estimator checks, run on SearchCV around a classifier and a regressor."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from hyperhive.sklearn import SearchCV


def _instances() -> list[SearchCV]:
    fast = {"max_evals": 2, "cv": 2, "optimizer": "random", "seed": 0}
    return [
        SearchCV(LogisticRegression(max_iter=200), {"C": (0.1, 10.0, "log-uniform")}, **fast),
        SearchCV(Ridge(), {"alpha": (0.1, 10.0, "log-uniform")}, **fast),
    ]


@parametrize_with_checks(_instances())
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
