"""Surrogates, acquisitions, target transforms and the candidate codec."""

from __future__ import annotations

import numpy as np
import pytest

from hyperhive.optimizers.bo.acquisition import (
    KappaSchedule,
    expected_improvement,
    probability_of_improvement,
    ucb,
    utility,
)
from hyperhive.optimizers.bo.codec import Codec
from hyperhive.optimizers.bo.gp import GaussianProcess
from hyperhive.optimizers.bo.surrogates import TreeEnsemble
from hyperhive.optimizers.bo.transform import scale_constraints, scale_losses
from hyperhive.space import Categorical, Constant, Float, Int, Ordinal, Space, gt


# -- surrogates ---------------------------------------------------------------------------
def _fit(model, x, y, seed=0):
    model.fit(x, y[:, None], np.random.default_rng(seed))
    model.condition(x, y[:, None])
    return model


@pytest.mark.parametrize("kind", ["et", "rf"])
def test_tree_epistemic_variance_shrinks_with_data_near_a_point(kind):
    rng = np.random.default_rng(0)
    x = rng.random((60, 2))
    y = np.sin(4 * x[:, 0]) + x[:, 1]
    point = np.array([[0.5, 0.5]])
    before = _fit(TreeEnsemble(kind, n_trees=32), x, y).predict(point).epistemic[0, 0]
    near = 0.5 + 0.01 * rng.standard_normal((30, 2))
    x2 = np.vstack([x, near])
    y2 = np.concatenate([y, np.sin(4 * near[:, 0]) + near[:, 1]])
    after = _fit(TreeEnsemble(kind, n_trees=32), x2, y2).predict(point).epistemic[0, 0]
    assert after < 0.5 * before


def test_tree_variance_decomposition():
    rng = np.random.default_rng(1)
    x = rng.random((200, 1))
    noisy = np.where(x[:, 0] > 0.5, rng.normal(0, 1.0, 200), rng.normal(0, 0.01, 200))
    model = _fit(TreeEnsemble("et", n_trees=32, min_samples_leaf=10), x, noisy)
    pred = model.predict(np.array([[0.1], [0.75]]))
    # The noisy half shows a large aleatoric part, the quiet half much less.
    assert pred.aleatoric[1, 0] > 5 * pred.aleatoric[0, 0]
    # Epistemic is the spread of the tree means, aleatoric the mean leaf variance.
    means, variances = model.per_tree(np.array([[0.75]]))
    assert np.isclose(pred.epistemic[1, 0], means[0, :, 0].var())
    assert np.isclose(pred.aleatoric[1, 0], variances[0, :, 0].mean())
    assert np.allclose(pred.std(epistemic_only=True) ** 2, np.maximum(pred.epistemic, 1e-12))


def test_tree_condition_updates_leaves_without_refit():
    rng = np.random.default_rng(2)
    x = rng.random((50, 2))
    y = x[:, 0]
    model = _fit(TreeEnsemble("et", n_trees=8), x, y)
    trees = list(model._trees)
    model.condition(x, y + 10.0)  # same structure, shifted leaf values
    assert model._trees == trees
    assert model.predict(x[:5]).mean[:, 0] == pytest.approx(
        _fit(TreeEnsemble("et", n_trees=8), x, y).predict(x[:5]).mean[:, 0] + 10.0
    )


@pytest.mark.parametrize("kind", ["et", "gp"])
def test_fantasy_makes_the_point_less_attractive(kind):
    rng = np.random.default_rng(3)
    x = rng.random((25, 2))
    y = np.cos(3 * x[:, 0]) * x[:, 1]

    def make():
        return _fit(TreeEnsemble("et", 16) if kind == "et" else GaussianProcess(), x, y)

    model = make()
    point = np.array([[0.9, 0.1]])
    fantasy = model.fantasize(point, np.array([[float(y.max())]]))
    before, after = model.predict(point), fantasy.predict(point)
    assert ucb(after.mean, after.std(), 1.96)[0, 0] < ucb(before.mean, before.std(), 1.96)[0, 0]
    if kind == "gp":
        assert after.epistemic[0, 0] < before.epistemic[0, 0]
    # the original is untouched
    assert model.predict(point).mean[0, 0] == pytest.approx(make().predict(point).mean[0, 0])


def test_gp_fits_a_smooth_function():
    rng = np.random.default_rng(4)
    x = rng.random((40, 2))
    f = lambda a: np.sin(3 * a[:, 0]) + 0.5 * np.cos(2 * a[:, 1])  # noqa: E731
    model = _fit(GaussianProcess(), x, f(x))
    test = rng.random((200, 2))
    pred = model.predict(test)
    rmse = float(np.sqrt(np.mean((pred.mean[:, 0] - f(test)) ** 2)))
    assert rmse < 0.05 * float(np.std(f(test)))
    # the uncertainty is small near data and larger far from it
    assert pred.epistemic.max() < 0.1
    assert model.predict(np.array([[3.0, 3.0]])).epistemic[0, 0] > 0.5


def test_gp_ard_finds_the_irrelevant_dimension():
    rng = np.random.default_rng(5)
    x = rng.random((40, 3))
    y = np.sin(5 * x[:, 0])
    model = _fit(GaussianProcess(n_restarts=2), x, y)
    ls = model.lengthscales[0]
    assert ls[0] < ls[1] and ls[0] < ls[2]


# -- acquisitions -------------------------------------------------------------------------
def test_acquisitions():
    rng = np.random.default_rng(6)
    mean, std = rng.normal(size=500), rng.random(500) + 0.01
    ei = expected_improvement(mean, std, best=0.0, xi=0.01)
    assert (ei >= 0).all()
    pi = probability_of_improvement(mean, std, best=0.0)
    assert ((pi >= 0) & (pi <= 1)).all()
    low, high = ucb(mean, std, 0.5), ucb(mean, std, 2.0)
    assert (high >= low).all()
    assert np.array_equal(utility("ts", mean, std, best=0, kappa=1, xi=0, draw=mean), -mean)
    with pytest.raises(ValueError):
        utility("nope", mean, std, best=0, kappa=1, xi=0)
    # EI prefers lower mean at equal std, and higher std at equal mean
    assert expected_improvement(np.array([0.0]), np.array([1.0]), 0.0) < expected_improvement(
        np.array([-1.0]), np.array([1.0]), 0.0
    )
    assert expected_improvement(np.array([1.0]), np.array([0.1]), 0.0) < expected_improvement(
        np.array([1.0]), np.array([1.0]), 0.0
    )


def test_kappa_schedules():
    assert KappaSchedule(2.0)(100) == 2.0
    decay = KappaSchedule(2.0, "decay", kappa_min=0.1, rate=0.5)
    assert decay(0) == 2.0 and decay(1) == 1.0 and decay(50) == 0.1
    periodic = KappaSchedule(2.0, "periodic", rate=0.5, period=10)
    assert periodic(0) == periodic(10) == 2.0 and periodic(9) < periodic(10)
    with pytest.raises(ValueError):
        KappaSchedule(1.0, "sideways")


# -- transforms ---------------------------------------------------------------------------
@pytest.mark.parametrize("scaling", ["minmax", "log", "quantile"])
def test_scalings_are_monotone_standardized_and_impute(scaling):
    y = np.array([3.0, 1.0, np.nan, 2.0, 1e12, 5.0, np.inf, 4.0])
    z = scale_losses(y, scaling, clip=3.0, impute="worst")
    ok = np.isfinite(y)
    assert np.all(np.diff(z[ok][np.argsort(y[ok])]) >= 0)  # order kept (ties from clipping)
    assert abs(z[ok].mean()) < 1e-9 and z[ok].std() == pytest.approx(1.0)
    assert z[2] == z[6] == z[ok].max()
    assert scale_losses(y, scaling, impute="mean")[2] == 0.0
    assert np.isnan(scale_losses(y, scaling, impute="ignore")[2])


def test_identical_values_and_all_failed():
    assert np.array_equal(scale_losses(np.full(5, 7.0)), np.zeros(5))
    assert np.array_equal(scale_losses(np.full(3, np.nan)), np.zeros(3))
    extreme = scale_losses(np.array([1e300, -1e300, 1e-300, 0.0, -0.0, 7.0, 1e15]), "minmax")
    assert np.isfinite(extreme).all()


def test_clipping_limits_the_bad_tail():
    y = np.concatenate([np.linspace(0, 1, 20), [1e6]])
    z = scale_losses(y, "minmax", clip=1.0)
    assert z[-1] - z[-2] < 2.0  # without clipping the outlier would flatten everything
    spread = scale_losses(y, "minmax", clip=None)
    assert np.ptp(spread[:-1]) < 1e-3


def test_constraints_keep_their_sign():
    c = np.array([[-2.0, 1.0], [3.0, np.nan], [0.5, -1.0], [np.nan, 2.0]])
    z = scale_constraints(c)
    ok = np.isfinite(c)
    assert np.array_equal(np.sign(z[ok]), np.sign(c[ok]))
    assert np.isfinite(z).all()


# -- codec --------------------------------------------------------------------------------
def _space():
    space = Space(
        {
            "model": Categorical(["linear", "net"]),
            "lr": Float(1e-4, 1e-1, log=True),
            "layers": Int(1, 4),
            "size": Ordinal(["s", "m", "l"]),
            "opt": Constant("adam"),
            "units": Int(16, 1024, log=True),
        }
    )
    space.condition("layers", on="model", equals="net")
    space.forbid(model="net", units=gt(512))
    return space


@pytest.mark.parametrize("onehot", [True, False])
def test_codec_features_match_space_encode(onehot):
    space = _space()
    codec = Codec(space, onehot=onehot)
    configs = space.sample(50, 0)
    rows = codec.exact(configs)
    assert np.allclose(codec.features(rows), space.encode(configs, onehot=onehot))
    assert codec.to_configs(rows) == configs
    assert len(set(codec.keys(rows))) == len({str(sorted(c.items())) for c in configs})


def test_codec_mutations_follow_conditions_and_forbidden_clauses():
    space = _space()
    codec = Codec(space)
    rng = np.random.default_rng(0)
    rows = codec.from_configs(space.sample(20, 1), rng)
    moved = codec.mutate(rows.take(np.arange(400) % 20), rng, np.full(400, 0.3))
    allowed = codec.allowed(moved)
    assert 0 < allowed.sum() < 400  # some land in the forbidden region and are flagged
    for config in codec.to_configs(moved.take(allowed)):
        space.validate(config)
        assert not space.is_forbidden(config)
    samples = codec.sample(300, rng)
    for config in codec.to_configs(samples.take(codec.allowed(samples))):
        space.validate(config)
