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

    @abc.abstractmethod
    def fantasize(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        """A model also conditioned on the extra points ``x`` with values ``y`` (no refit)."""


class TreeEnsemble(Surrogate):
    """Extremely randomized trees (or a random forest) with a decomposed variance.

    The tree structures come from scikit-learn. Predictions do not use the
    trees' own leaf values: every leaf keeps the count, mean and variance of
    the current data falling in it, so new results update the model by
    :meth:`condition` without growing new trees. At a point, tree
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
        """Grow the trees on ``(x, y)`` (scikit-learn trees, one at a time)."""
        from sklearn.tree import DecisionTreeRegressor, ExtraTreeRegressor

        x32 = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=float).reshape(len(x32), -1)
        target = y[:, 0] if y.shape[1] == 1 else y
        n = len(x32)
        self._trees = []
        for seed in rng.integers(2**31 - 1, size=self.n_trees):
            if self.kind == "et":
                est = ExtraTreeRegressor(
                    min_samples_leaf=self.min_samples_leaf,
                    max_features=self.max_features,
                    random_state=int(seed),
                )
                est.fit(x32, target)
            else:
                boot = np.random.default_rng(int(seed))
                weight = np.bincount(boot.integers(0, n, n), minlength=n).astype(float)
                est = DecisionTreeRegressor(
                    min_samples_leaf=self.min_samples_leaf,
                    max_features=self.max_features,
                    random_state=int(seed),
                )
                est.fit(x32, target, sample_weight=weight)
            self._trees.append(est.tree_)
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
        y = np.asarray(y, dtype=float).reshape(len(x), -1)
        r = len(self._leaves)
        if r and (r > len(x) or not np.array_equal(self._x, x[:r])):
            r = 0
            self._leaves = self._leaves[:0]
        if r < len(x):
            self._leaves = np.concatenate([self._leaves, self._apply(x[r:])])
            self._x = np.array(x, copy=True)
        self._y = y
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

    def fantasize(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        """The ensemble conditioned on ``f(x) = y`` (see :class:`EnsembleFantasy`)."""
        return EnsembleFantasy(self, x, y)

    def per_tree(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Leaf means and within-leaf variances of every tree, each ``(m, n_trees, k)``."""
        mean, var = self._moments()
        leaves = self._apply(x)
        return mean[leaves], var[leaves]  # (m, n_trees, k)

    def predict(self, x: np.ndarray) -> Prediction:
        """Mean of the tree means; variance across trees (epistemic) and within leaves."""
        means, variances = self.per_tree(x)
        return Prediction(means.mean(axis=1), means.var(axis=1), variances.mean(axis=1))

    def sample(self, x: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """The leaf means of ``size`` trees drawn at random (with replacement)."""
        means, _ = self.per_tree(x)
        pick = rng.integers(0, means.shape[1], size)
        return np.transpose(means[:, pick, :], (1, 0, 2))


class EnsembleFantasy(Surrogate):
    """A tree ensemble conditioned on fantasy observations, without refit.

    The trees' predictions are taken as an ensemble of functions: their
    empirical covariance across trees gives the joint distribution of the
    latent function at the candidates and at the fantasy points, and the
    Gaussian update on ``f(points) = values`` moves the mean toward the values
    and shrinks the epistemic variance wherever the trees tie a candidate to a
    fantasy point (an ensemble Kalman update). Posterior draws update each
    tree the same way.

    Args:
        base: The conditioned ensemble.
        x: Fantasy points ``(q, d)``.
        y: Their values ``(q, k)``.
    """

    name = "fantasy"

    def __init__(self, base: TreeEnsemble, x: np.ndarray, y: np.ndarray) -> None:
        self.base = base
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float).reshape(len(self.x), -1)
        means, variances = base.per_tree(self.x)  # (q, T, k)
        self._p_dev = means - means.mean(axis=1, keepdims=True)
        self._gap = self.y - means.mean(axis=1)  # (q, k)
        n_trees = means.shape[1]
        self._solves = []
        for j in range(self.y.shape[1]):
            dev = self._p_dev[:, :, j]
            cov = dev @ dev.T / n_trees
            noise = 1e-6 + 1e-3 * float(np.mean(np.diag(cov)))
            cov[np.diag_indices_from(cov)] += noise
            self._solves.append(np.linalg.pinv(cov, hermitian=True))
        del variances

    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Not supported: fit the base ensemble instead."""
        raise NotImplementedError("fit the base TreeEnsemble, then fantasize again")

    def condition(self, x: np.ndarray, y: np.ndarray) -> None:
        """Not supported: condition the base ensemble instead."""
        raise NotImplementedError("condition the base TreeEnsemble, then fantasize again")

    def fantasize(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        """Condition on more fantasy points (all of them jointly)."""
        return EnsembleFantasy(
            self.base,
            np.concatenate([self.x, x]),
            np.concatenate([self.y, np.reshape(y, (len(x), -1))]),
        )

    def _gains(self, dev: np.ndarray) -> list[np.ndarray]:
        """Per column, the Kalman gain ``(m, q)`` of candidates with deviations ``dev``."""
        n_trees = dev.shape[1]
        return [
            (dev[:, :, j] @ self._p_dev[:, :, j].T / n_trees) @ self._solves[j]
            for j in range(dev.shape[2])
        ]

    def predict(self, x: np.ndarray) -> Prediction:
        """The base prediction updated by the fantasies."""
        means, variances = self.base.per_tree(x)
        mean = means.mean(axis=1)
        dev = means - mean[:, None, :]
        epi = means.var(axis=1)
        for j, gain in enumerate(self._gains(dev)):
            mean[:, j] += gain @ self._gap[:, j]
            explained = (gain * (dev[:, :, j] @ self._p_dev[:, :, j].T / dev.shape[1])).sum(1)
            epi[:, j] = np.maximum(epi[:, j] - explained, 0.0)
        return Prediction(mean, epi, variances.mean(axis=1))

    def sample(self, x: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """Trees drawn at random, each moved by the update of its own prediction."""
        means, _ = self.base.per_tree(x)
        p_means, _ = self.base.per_tree(self.x)
        dev = means - means.mean(axis=1, keepdims=True)
        moved = means.copy()
        for j, gain in enumerate(self._gains(dev)):
            moved[:, :, j] += gain @ (self.y[:, j][:, None] - p_means[:, :, j])
        pick = rng.integers(0, means.shape[1], size)
        return np.transpose(moved[:, pick, :], (1, 0, 2))
