"""Surrogate models with uncertainty, and the tree ensemble.

A surrogate learns several target columns at once (the objectives, then the
constraints) and predicts, for each, a mean and a variance split into an
*epistemic* part (what more data would remove) and an *aleatoric* part (noise
the data itself shows). Its life cycle keeps refits off the suggestion path:

* :meth:`Surrogate.fit` learns the expensive part (tree structures, kernel
  hyperparameters) from some data;
* :meth:`Surrogate.condition` then takes the full, current data cheaply,
  keeping that structure (leaf statistics, a Cholesky factor);
* :meth:`Surrogate.fantasize` returns a copy conditioned on extra points (the
  "lies" told for pending trials), again without a refit.
"""

from __future__ import annotations

import abc
import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Prediction", "Surrogate", "TreeEnsemble"]


@dataclass
class Prediction:
    """Predictions at ``m`` points for ``k`` targets, each an ``(m, k)`` array."""

    mean: np.ndarray
    epistemic: np.ndarray
    aleatoric: np.ndarray

    def std(self, epistemic_only: bool = False) -> np.ndarray:
        """Predictive standard deviation (of the epistemic part alone if asked)."""
        var = self.epistemic if epistemic_only else self.epistemic + self.aleatoric
        return np.sqrt(np.maximum(var, 1e-12))


class Surrogate(abc.ABC):
    """A regression model of several targets with epistemic and aleatoric variance."""

    name: str = ""

    @abc.abstractmethod
    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Learn structure and hyperparameters from ``x`` ``(n, d)`` and ``y`` ``(n, k)``."""

    @abc.abstractmethod
    def condition(self, x: np.ndarray, y: np.ndarray) -> None:
        """Take the current data, keeping what :meth:`fit` learned."""

    @abc.abstractmethod
    def predict(self, x: np.ndarray) -> Prediction:
        """Mean and variances at ``x``."""

    @abc.abstractmethod
    def sample(self, x: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws of the latent mean at ``x``, as a ``(size, m, k)`` array."""

    def fantasize(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        """A copy also conditioned on the extra points ``x`` with values ``y``."""
        out = copy.copy(self)
        out._add(x, y)
        return out

    @abc.abstractmethod
    def _add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Condition on extra points (on a copy made by :meth:`fantasize`)."""


class TreeEnsemble(Surrogate):
    """Extremely randomized trees (or a random forest) with a decomposed variance.

    The tree structures come from scikit-learn. Predictions do not use the
    trees' own leaf values: every leaf keeps the count, mean and variance of
    the current data falling in it, so new results (and fantasies) update the
    model by :meth:`condition` without growing new trees. At a point, tree
    ``t`` predicts the mean ``m_t`` of its leaf, with within-leaf variance
    ``v_t``; the prediction is the mean of the ``m_t``, its epistemic variance
    their variance across trees and its aleatoric variance the mean of the
    ``v_t`` (the law of total variance over a uniformly chosen tree).

    Args:
        kind: ``"et"`` (extremely randomized trees) or ``"rf"`` (random forest,
            bootstrapped, best splits).
        n_trees: Number of trees.
        min_samples_leaf: Minimum training points per leaf.
        max_features: Fraction of features tried per split.
    """

    def __init__(
        self,
        kind: str = "et",
        n_trees: int = 32,
        min_samples_leaf: int = 2,
        max_features: float = 1.0,
    ) -> None:
        if kind not in ("et", "rf"):
            raise ValueError(f"kind must be 'et' or 'rf', got {kind!r}")
        self.name = kind
        self.kind = kind
        self.n_trees = n_trees
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self._trees: list[Any] = []
        self._offsets = np.zeros(1, dtype=np.int64)
        self._leaves = np.zeros((0, 0), dtype=np.int64)
        self._x = np.zeros((0, 0))
        self._y = np.zeros((0, 0))
        self._stats: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self._n_nodes = 0

    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Grow the trees on ``(x, y)`` (scikit-learn, one thread)."""
        from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

        cls = ExtraTreesRegressor if self.kind == "et" else RandomForestRegressor
        model = cls(
            n_estimators=self.n_trees,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            bootstrap=self.kind == "rf",
            n_jobs=1,
            random_state=int(rng.integers(2**31 - 1)),
        )
        target = y[:, 0] if y.shape[1] == 1 else y
        model.fit(np.asarray(x, dtype=np.float32), target)
        self._trees = [est.tree_ for est in model.estimators_]
        counts = [t.node_count for t in self._trees]
        self._offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self._n_nodes = int(np.sum(counts))
        self._leaves = np.zeros((0, len(self._trees)), dtype=np.int64)
        self._x = np.zeros((0, x.shape[1]))
        self._stats = None
        self._cache = None

    def _apply(self, x: np.ndarray) -> np.ndarray:
        """Global leaf index of each point in each tree, ``(m, n_trees)``."""
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        out = np.empty((len(x), len(self._trees)), dtype=np.int64)
        for j, tree in enumerate(self._trees):
            out[:, j] = tree.apply(x32)
        return out + self._offsets

    def condition(self, x: np.ndarray, y: np.ndarray) -> None:
        """Leaf statistics of ``(x, y)``; rows seen by the last call are not re-applied."""
        r = len(self._leaves)
        if r and (r > len(x) or not np.array_equal(self._x, x[:r])):
            r = 0
            self._leaves = self._leaves[:0]
        if r < len(x):
            self._leaves = np.concatenate([self._leaves, self._apply(x[r:])])
            self._x = np.array(x, copy=True)
        self._y = np.asarray(y, dtype=float)
        self._stats = self._leaf_stats(self._leaves, self._y)
        self._cache = None

    def _leaf_stats(
        self, leaves: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Count ``(nodes,)``, sum and sum of squares ``(nodes, k)`` of ``y`` per leaf."""
        flat = leaves.reshape(-1)
        n_trees = leaves.shape[1]
        count = np.bincount(flat, minlength=self._n_nodes).astype(float)
        k = y.shape[1]
        s1 = np.zeros((self._n_nodes, k))
        s2 = np.zeros((self._n_nodes, k))
        for j in range(k):
            w = np.repeat(y[:, j], n_trees)
            s1[:, j] = np.bincount(flat, weights=w, minlength=self._n_nodes)
            s2[:, j] = np.bincount(flat, weights=w * w, minlength=self._n_nodes)
        return count, s1, s2

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance ``(nodes, k)`` per leaf, cached until the data changes."""
        if self._stats is None:
            raise RuntimeError("TreeEnsemble.predict() before fit() and condition()")
        if self._cache is None:
            count, s1, s2 = self._stats
            safe = np.maximum(count, 1.0)[:, None]
            mean = s1 / safe
            var = np.maximum(s2 / safe - mean**2, 0.0)
            # A leaf no current point reaches (possible only when old data was
            # dropped) predicts the overall mean and variance.
            empty = count == 0
            if empty.any() and len(self._y):
                mean[empty] = self._y.mean(axis=0)
                var[empty] = self._y.var(axis=0)
            self._cache = (mean, var)
        return self._cache

    def _add(self, x: np.ndarray, y: np.ndarray) -> None:
        if self._stats is None:
            raise RuntimeError("TreeEnsemble.fantasize() before fit() and condition()")
        leaves = self._apply(x)
        count, s1, s2 = (a.copy() for a in self._stats)
        flat = leaves.reshape(-1)
        w = np.repeat(np.asarray(y, dtype=float), leaves.shape[1], axis=0)
        np.add.at(count, flat, 1.0)
        np.add.at(s1, flat, w)
        np.add.at(s2, flat, w * w)
        self._stats = (count, s1, s2)
        self._y = np.concatenate([self._y, y])
        self._cache = None

    def _per_tree(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, var = self._moments()
        leaves = self._apply(x)
        return mean[leaves], var[leaves]  # (m, n_trees, k)

    def predict(self, x: np.ndarray) -> Prediction:
        """Mean of the tree means; variance across trees (epistemic) and within leaves."""
        means, variances = self._per_tree(x)
        return Prediction(means.mean(axis=1), means.var(axis=1), variances.mean(axis=1))

    def sample(self, x: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """The leaf means of ``size`` trees drawn at random (with replacement)."""
        means, _ = self._per_tree(x)
        pick = rng.integers(0, means.shape[1], size)
        return np.transpose(means[:, pick, :], (1, 0, 2))
