"""The functional ANOVA of a forest, checked against variances computed by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.ensemble import RandomForestRegressor
from sklearn.tree import DecisionTreeRegressor

from hyperhive.analysis._fanova import forest_main_effects, leaf_boxes


def _grid_tree(fn, n: int = 4) -> tuple[DecisionTreeRegressor, np.ndarray]:
    centres = (np.arange(n) + 0.5) / n
    X = np.array(list(itertools.product(centres, centres)))
    y = np.array([fn(x) for x in X])
    return DecisionTreeRegressor(random_state=0).fit(X, y), X


class _Forest:
    def __init__(self, *trees):
        self.estimators_ = list(trees)


def test_additive_steps_split_the_variance_exactly() -> None:
    # f = 1[x0 > .5] + 2 * 1[x1 > .5]: Var = 1/4 + 1, so the shares are 0.2 and 0.8.
    tree, _ = _grid_tree(lambda x: float(x[0] > 0.5) + 2.0 * float(x[1] > 0.5))
    shares = forest_main_effects(_Forest(tree), np.zeros(2), np.ones(2))
    np.testing.assert_allclose(shares, [0.2, 0.8], atol=1e-12)


def test_pure_interaction_has_no_main_effect() -> None:
    # XOR of the two halves: each marginal is constant, all variance is interaction.
    tree, _ = _grid_tree(lambda x: float((x[0] > 0.5) != (x[1] > 0.5)))
    shares = forest_main_effects(_Forest(tree), np.zeros(2), np.ones(2))
    np.testing.assert_allclose(shares, [0.0, 0.0], atol=1e-12)


def test_leaf_boxes_partition_the_domain() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(200, 3))
    tree = DecisionTreeRegressor(random_state=0).fit(X, X[:, 0] + X[:, 1] ** 2)
    lo, hi, value = leaf_boxes(tree.tree_, np.zeros(3), np.ones(3))
    assert np.prod(hi - lo, axis=1).sum() == pytest.approx(1.0)
    assert len(value) == tree.get_n_leaves()


def test_linear_function_shares_follow_the_coefficients() -> None:
    # f = 3 x0 + x1 on the unit square: main effects 9/12 and 1/12 of 10/12.
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(600, 3))
    y = 3 * X[:, 0] + X[:, 1]
    forest = RandomForestRegressor(n_estimators=16, random_state=0).fit(X, y)
    shares = forest_main_effects(forest, np.zeros(3), np.ones(3))
    assert shares[0] == pytest.approx(0.9, abs=0.05)
    assert shares[1] == pytest.approx(0.1, abs=0.05)
    assert shares[2] < 0.02
