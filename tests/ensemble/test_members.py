"""Members that are scikit-learn estimators or callables, saved by the objective."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import BayesianRidge, LinearRegression, LogisticRegression

import hyperhive as hh
from hyperhive import ensemble


def line(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    return x, x @ np.array([2.0, -1.0]) + 0.3 * rng.standard_normal(n)


def test_sklearn_regressors_with_and_without_std(tmp_path: Path) -> None:
    x, y = line(300, 0)
    ensemble.save_member(BayesianRidge().fit(x, y), tmp_path / "br")
    ensemble.save_member(LinearRegression().fit(x, y), tmp_path / "lr")
    with pytest.raises(ensemble.MemberError, match="allow_pickle=True"):
        ensemble.load_member(tmp_path / "br")
    br = ensemble.load_member(tmp_path / "br", allow_pickle=True)
    lr = ensemble.load_member(tmp_path / "lr", allow_pickle=True)
    assert (br.kind, br.task) == ("sklearn", "regression")
    out_br, out_lr = br.predict(x[:5]), lr.predict(x[:5])
    assert out_br.variance is not None and np.all(out_br.variance > 0.05)  # noise 0.3**2
    assert out_lr.variance is None and out_lr.mean.shape == (5, 1)
    # The plain regressor adds epistemic spread only: aleatoric = half BayesianRidge's.
    pred = ensemble.Ensemble([br, lr]).predict(x[:5])
    np.testing.assert_allclose(pred.aleatoric**2, out_br.variance[:, 0] / 2)


def test_callable_and_classifier_members(tmp_path: Path) -> None:
    ensemble.save_member(lambda x: (np.sum(x, axis=1), np.full(len(x), 0.25)), tmp_path / "f")
    member = ensemble.load_member(tmp_path / "f", allow_pickle=True)
    out = member.predict(np.ones((3, 2)))
    assert member.kind == "callable"
    np.testing.assert_allclose(out.mean[:, 0], [2, 2, 2])
    np.testing.assert_allclose(out.variance[:, 0], [0.25] * 3)
    x, y = line(200, 1)
    labels = (y > 0).astype(int)
    ensemble.save_member(LogisticRegression().fit(x, labels), tmp_path / "c", task="classification")
    clf = ensemble.load_member(tmp_path / "c", allow_pickle=True)
    ens = ensemble.Ensemble([clf, clf], [1, 1])
    scores = ens.evaluate((x, labels))
    assert scores["accuracy"] > 0.85 and scores["epistemic"] == pytest.approx(0, abs=1e-12)
    with pytest.raises(ValueError, match="task must be one of"):
        ensemble.save_member(clf.model, tmp_path / "d", task="ranking")
    with pytest.raises(TypeError, match="scikit-learn estimator or a callable"):
        ensemble.save_member(42, tmp_path / "d")
    with pytest.raises(ValueError, match="needs a running trial"):
        ensemble.save_member(clf.model)


def test_from_a_search_of_sklearn_members(tmp_path: Path) -> None:
    x, y = line(300, 2)
    xv, yv = line(200, 3)

    def objective(config: dict) -> float:
        model = BayesianRidge(alpha_1=config["alpha"]).fit(x[: config["n"]], y[: config["n"]])
        ensemble.save_member(model)  # into hh.current_trial().artifact_dir
        return float(np.mean((model.predict(xv) - yv) ** 2))

    space = hh.Space({"alpha": hh.Float(1e-6, 1.0, log=True), "n": hh.Int(20, 300)})
    hh.search(objective, space, max_evals=6, run_dir=tmp_path / "run", seed=0)
    with pytest.raises(ensemble.MemberError, match="pickle"):
        ensemble.from_run(tmp_path / "run", (xv, yv))
    ens = ensemble.from_run(tmp_path / "run", (xv, yv), size=3, allow_pickle=True)
    assert 1 <= len(ens.members) <= 3 and ens.weights.sum() == pytest.approx(1.0)
    assert ens.evaluate((xv, yv))["rmse"] < 0.4
    assert ens.info["candidates"] == 6


def test_no_member_in_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no ensemble member"):
        ensemble.load_member(tmp_path)
    with pytest.raises(FileNotFoundError, match="no ensemble"):
        ensemble.load(tmp_path)
