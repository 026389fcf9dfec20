"""SearchCV: GridSearchCV's attributes and layout, fresh searches per fit, failures, parallel."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import hyperhive as hh
from hyperhive.sklearn import SearchCV

FAST = {"cv": 3, "optimizer": "random", "seed": 0}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def pipeline() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])


def test_cv_results_have_gridsearchcv_keys_and_shapes(iris):
    X, y = iris
    ours = SearchCV(
        pipeline(),
        {"clf__C": [0.1, 1.0, 10.0]},
        max_evals=3,
        cv=3,
        seed=0,
        return_train_score=True,
    ).fit(X, y)
    grid = GridSearchCV(
        pipeline(), {"clf__C": [0.1, 1.0, 10.0]}, cv=3, return_train_score=True
    ).fit(X, y)
    assert set(grid.cv_results_) <= set(ours.cv_results_)
    for key, value in grid.cv_results_.items():
        mine = ours.cv_results_[key]
        assert len(mine) == len(value), key
        if isinstance(value, np.ndarray):
            assert mine.shape == value.shape, key
    assert isinstance(ours.cv_results_["param_clf__C"], np.ma.MaskedArray)
    assert ours.cv_results_["rank_test_score"].dtype == np.int32
    # The same three candidates give the same fold scores as GridSearchCV's.
    order = np.argsort([p["clf__C"] for p in ours.cv_results_["params"]])
    for k in range(3):
        np.testing.assert_allclose(
            ours.cv_results_[f"split{k}_test_score"][order],
            grid.cv_results_[f"split{k}_test_score"],
        )
    assert ours.best_score_ == pytest.approx(grid.best_score_)
    assert ours.n_splits_ == 3
    assert ours.refit_time_ >= 0


def test_best_attributes_and_delegation(iris):
    X, y = iris
    search = SearchCV(pipeline(), {"clf__C": (1e-3, 1e2, "log-uniform")}, max_evals=6, **FAST).fit(
        X, y
    )
    best = search.best_params_
    assert best == search.cv_results_["params"][search.best_index_]
    assert search.cv_results_["rank_test_score"][search.best_index_] == 1
    expected = cross_val_score(clone(pipeline()).set_params(**best), X, y, cv=3).mean()
    assert search.best_score_ == pytest.approx(expected)
    assert search.best_estimator_.get_params()["clf__C"] == best["clf__C"]
    np.testing.assert_array_equal(search.predict(X), search.best_estimator_.predict(X))
    np.testing.assert_allclose(search.predict_proba(X), search.best_estimator_.predict_proba(X))
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    assert search.n_features_in_ == 4
    assert len(search.trials_) == 6


def test_space_object_conditional_parameters_are_masked(iris):
    X, y = iris
    space = hh.Space({"kernel": hh.Categorical(["rbf", "poly"]), "degree": hh.Int(2, 3)})
    space.condition("degree", on="kernel", equals="poly")
    search = SearchCV(SVC(), space, max_evals=6, **FAST).fit(X, y)
    kernels = search.cv_results_["param_kernel"]
    degrees = search.cv_results_["param_degree"]
    for i, params in enumerate(search.cv_results_["params"]):
        assert kernels[i] == params["kernel"]
        assert bool(np.ma.getmaskarray(degrees)[i]) == (params["kernel"] == "rbf")


def test_transform_is_delegated():
    X, _ = make_regression(n_samples=40, n_features=3, random_state=0)
    from sklearn.decomposition import PCA

    search = SearchCV(PCA(), {"n_components": hh.Int(1, 3)}, max_evals=3, **FAST).fit(X)
    np.testing.assert_allclose(search.transform(X), search.best_estimator_.transform(X))
    assert not hasattr(SearchCV(Ridge(), {"alpha": (0.1, 1.0)}), "transform")


def test_clone_params_and_pickle(iris):
    X, y = iris
    search = SearchCV(pipeline(), {"clf__C": (0.1, 10.0, "log-uniform")}, max_evals=3, **FAST)
    params = search.get_params()
    assert params["max_evals"] == 3 and params["estimator__clf__C"] == 1.0
    twin = clone(search)
    assert twin.get_params()["space"] == search.get_params()["space"]
    twin.set_params(max_evals=2, estimator__clf__max_iter=300)
    assert twin.max_evals == 2 and twin.estimator.named_steps["clf"].max_iter == 300
    search.fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))
    assert restored.best_params_ == search.best_params_


def test_every_fit_is_a_fresh_search_in_nested_cross_validation(iris, tmp_path):
    X, y = iris
    search = SearchCV(
        LogisticRegression(max_iter=300),
        {"C": (0.01, 10.0, "log-uniform")},
        max_evals=3,
        run_dir=tmp_path,
        cv=2,
        optimizer="random",
        seed=0,
    )
    outer = cross_validate(search, X, y, cv=3, return_estimator=True)
    inner = outer["estimator"]
    run_dirs = {est.run_dir_ for est in inner}
    assert len(run_dirs) == 3 and all(d.parent == tmp_path for d in run_dirs)
    for est in inner:
        assert len(est.cv_results_["params"]) == 3
        assert len(hh.load(est.run_dir_).trials) == 3  # nothing shared between outer folds
    # In memory as well: refitting the same instance starts over.
    search.set_params(run_dir=None).fit(X, y)
    first = list(search.cv_results_["trial_id"])
    search.fit(X, y)
    assert list(search.cv_results_["trial_id"]) == first == [0, 1, 2]


def test_each_fold_is_reported(iris, tmp_path):
    X, y = iris
    search = SearchCV(
        LogisticRegression(max_iter=300), {"C": (0.1, 10.0)}, max_evals=2, run_dir=tmp_path, **FAST
    ).fit(X, y)
    best = hh.load(search.run_dir_).best
    assert [r.step for r in best.reports] == [0, 1, 2]
    index = list(search.cv_results_["trial_id"]).index(best.id)
    np.testing.assert_allclose(
        [r.value for r in best.reports],
        [search.cv_results_[f"split{k}_test_score"][index] for k in range(3)],
    )


def test_groups_and_fit_params_reach_the_splitter_and_estimator():
    X, y = make_regression(n_samples=60, n_features=4, random_state=0)
    groups = np.repeat(np.arange(6), 10)
    weights = np.linspace(0.5, 1.5, 60)
    search = SearchCV(Ridge(), {"alpha": [0.1, 1.0]}, max_evals=2, cv=GroupKFold(3), seed=0)
    search.fit(X, y, groups=groups, sample_weight=weights)
    assert search.n_splits_ == 3
    expected = cross_val_score(
        Ridge(alpha=search.best_params_["alpha"]),
        X,
        y,
        cv=GroupKFold(3),
        groups=groups,
        params={"sample_weight": weights},
    ).mean()
    assert search.best_score_ == pytest.approx(expected)


def test_failed_fits_get_error_score(iris):
    X, y = iris
    space = {"C": [-1.0, 1.0]}  # C=-1 makes LogisticRegression.fit raise
    with pytest.warns(FitFailedWarning, match="C"):
        search = SearchCV(LogisticRegression(max_iter=300), space, max_evals=2, **FAST).fit(X, y)
    bad = [p["C"] for p in search.cv_results_["params"]].index(-1.0)
    assert np.isnan(search.cv_results_["mean_test_score"][bad])
    assert search.cv_results_["rank_test_score"][bad] == 2
    assert search.cv_results_["trial_status"][bad] == "failed"
    assert search.best_params_ == {"C": 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        zero = SearchCV(
            LogisticRegression(max_iter=300), space, max_evals=2, error_score=0.0, **FAST
        ).fit(X, y)
    bad = [p["C"] for p in zero.cv_results_["params"]].index(-1.0)
    assert zero.cv_results_["mean_test_score"][bad] == 0.0
    with pytest.raises(ValueError, match="C"):
        SearchCV(
            LogisticRegression(max_iter=300), space, max_evals=2, error_score="raise", **FAST
        ).fit(X, y)


def test_refit_false_and_callable(iris):
    X, y = iris
    space = {"C": [0.01, 1.0]}
    search = SearchCV(LogisticRegression(max_iter=300), space, max_evals=2, refit=False, **FAST)
    search.fit(X, y)
    assert search.best_params_ == {"C": 1.0}
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError, match="predict"):
        search.predict(X)
    worst = SearchCV(
        LogisticRegression(max_iter=300),
        space,
        max_evals=2,
        refit=lambda results: int(np.argmax(results["rank_test_score"])),
        **FAST,
    ).fit(X, y)
    assert worst.best_params_ == {"C": 0.01}
    assert worst.best_estimator_.C == 0.01


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_evals": 0}, "max_evals"),
        ({"workers": -1}, "workers"),
        ({"scoring": ["accuracy", "f1_macro"]}, "scoring"),
        ({"error_score": "ignore"}, "error_score"),
        ({"space": {"not_a_param": (0.0, 1.0)}}, "not_a_param"),
        ({"refit": "accuracy"}, "refit"),
        ({"scoring": "no-such-metric"}, "no-such-metric"),
    ],
)
def test_bad_parameters_are_named_at_fit(iris, kwargs, match):
    X, y = iris
    params = {"space": {"C": (0.1, 1.0)}, "max_evals": 2, **kwargs}
    search = SearchCV(LogisticRegression(), **params)  # __init__ stores, never checks
    with pytest.raises((ValueError, TypeError), match=match):
        search.fit(X, y)


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_parallel_workers(iris, executor):
    X, y = iris
    search = SearchCV(
        LogisticRegression(max_iter=300),
        {"C": (0.01, 10.0, "log-uniform")},
        max_evals=4,
        workers=2,
        executor=executor,
        cv=KFold(3, shuffle=True, random_state=0),
        seed=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert set(search.cv_results_["trial_status"]) == {"done"}
    assert search.best_score_ > 0.8


def test_a_search_without_finished_trials_says_so(iris):
    X, y = iris

    class Slow(LogisticRegression):
        def fit(self, X, y, **kw):
            import time

            time.sleep(0.5)
            return super().fit(X, y, **kw)

    search = SearchCV(
        Slow(), {"C": (0.1, 1.0)}, max_evals=3, cv=2, executor="thread", timeout=0.2, seed=0
    )
    with pytest.raises(RuntimeError, match="before any trial finished"):
        search.fit(X, y)
