"""Functional ANOVA of a random forest: each feature's main-effect share of the variance.

For one regression tree, every leaf is a box of the (bounded) feature domain with a
constant prediction. Under the uniform distribution over the domain (Hutter, Hoos and
Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance", ICML
2014), the tree's total variance is the volume-weighted variance of its leaf values,
and the marginal prediction of feature ``j`` at a point ``x_j`` averages the leaves
whose box contains ``x_j``, each weighted by its volume in the other features. That
marginal is a step function over the intervals between the tree's split points on
``j``; its variance is the main effect ``V_j``. The importance of ``j`` is
``V_j / V`` averaged over the trees of the forest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["forest_main_effects", "leaf_boxes"]


def leaf_boxes(tree: Any, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, ...]:
    """The boxes of a fitted scikit-learn tree's leaves.

    Args:
        tree: a fitted ``DecisionTreeRegressor``'s ``tree_``.
        lower: the domain's lower bound per feature.
        upper: the domain's upper bound per feature.

    Returns:
        ``(lo, hi, value)``: ``(leaves, d)`` bounds and the ``(leaves,)`` predictions.
    """
    left, right = tree.children_left, tree.children_right
    feature, threshold = tree.feature, tree.threshold
    values = tree.value.reshape(tree.node_count, -1)[:, 0]
    lo = np.empty((tree.node_count, len(lower)))
    hi = np.empty_like(lo)
    lo[0], hi[0] = lower, upper
    frontier = np.array([0])
    while frontier.size:  # one level of the tree at a time (children have larger ids)
        inner = frontier[left[frontier] != -1]
        if not inner.size:
            break
        f = feature[inner]
        t = np.clip(threshold[inner], lo[inner, f], hi[inner, f])
        kids_left, kids_right = left[inner], right[inner]
        lo[kids_left], hi[kids_left] = lo[inner], hi[inner]
        lo[kids_right], hi[kids_right] = lo[inner], hi[inner]
        hi[kids_left, f] = t
        lo[kids_right, f] = t
        frontier = np.concatenate([kids_left, kids_right])
    leaves = np.flatnonzero(left == -1)
    return lo[leaves], hi[leaves], values[leaves].astype(float)


def _tree_effects(tree: Any, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """Main-effect variance shares of one tree (None when the tree is constant)."""
    lo, hi, value = leaf_boxes(tree, lower, upper)
    width = upper - lower
    frac = np.clip((hi - lo) / width, 0.0, 1.0)
    weight = np.prod(frac, axis=1)
    total = weight.sum()
    if total <= 0:
        return None
    weight = weight / total
    mean = float(weight @ value)
    variance = float(weight @ (value - mean) ** 2)
    d = len(lower)
    out = np.zeros(d)
    if variance <= 1e-300:
        return None
    for j in range(d):
        edges = np.unique(np.concatenate(([lower[j], upper[j]], lo[:, j], hi[:, j])))
        if len(edges) < 3:
            continue  # the tree never splits on j: no main effect
        start = np.searchsorted(edges, lo[:, j])
        stop = np.searchsorted(edges, hi[:, j])
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = np.where(frac[:, j] > 0, weight / frac[:, j], 0.0)
        diff = np.zeros(len(edges))
        np.add.at(diff, start, value * rest)
        np.add.at(diff, stop, -value * rest)
        marginal = np.cumsum(diff)[:-1]
        share = np.diff(edges) / width[j]
        m = float(share @ marginal)
        out[j] = float(share @ (marginal - m) ** 2) / variance
    return out


def forest_main_effects(forest: Any, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Each feature's main-effect share of the variance, averaged over the forest's trees.

    Args:
        forest: a fitted ``RandomForestRegressor`` (or anything with ``estimators_``).
        lower: the domain's lower bound per feature.
        upper: the domain's upper bound per feature (above ``lower``).

    Returns:
        A ``(d,)`` array of shares in ``[0, 1]`` (zeros when every tree is constant).
    """
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    shares = [_tree_effects(est.tree_, lower, upper) for est in forest.estimators_]
    kept = [s for s in shares if s is not None]
    if not kept:
        return np.zeros(len(lower))
    return np.clip(np.mean(kept, axis=0), 0.0, 1.0)
