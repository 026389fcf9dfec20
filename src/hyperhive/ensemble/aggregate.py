"""Aggregation: members' outputs into one predictive distribution.

Regression: a mixture of the members' Gaussians, summarized by its mean and total
variance (law of total variance): aleatoric = weighted mean of the members'
variances, epistemic = weighted variance of their means. A member without a variance
(a plain regressor) counts as a zero-variance Gaussian: it adds epistemic spread only.
Classification: the weighted mean of the members' probabilities; its entropy splits
into the expected entropy (aleatoric) and the mutual information (epistemic).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from hyperhive.ensemble.prediction import ClassPrediction, Prediction

__all__ = ["average_probabilities", "entropy", "mixture", "normalized_weights"]

_TINY = 1e-12


def normalized_weights(weights: ArrayLike | None, m: int) -> np.ndarray:
    """Weights summing to one (equal when None).

    Raises:
        ValueError: a wrong count, a negative weight or a zero sum.
    """
    if m < 1:
        raise ValueError("an ensemble needs at least one member")
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, dtype=float)
    if w.shape != (m,) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be {m} non-negative numbers with a positive sum, got {w}")
    return w / w.sum()


def mixture(
    means: np.ndarray, variances: np.ndarray | None = None, weights: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moments of a mixture of Gaussians.

    Args:
        means: ``(members, n, ...)`` the members' means.
        variances: the same shape, the members' variances (None: zero, members
            without a variance).
        weights: one per member (None: equal).

    Returns:
        ``(mean, aleatoric_variance, epistemic_variance)``, each ``(n, ...)``.
    """
    mu = np.asarray(means, dtype=float)
    w = normalized_weights(weights, len(mu)).reshape((-1,) + (1,) * (mu.ndim - 1))
    mean = np.sum(w * mu, axis=0)
    epistemic = np.sum(w * (mu - mean) ** 2, axis=0)
    if variances is None:
        aleatoric = np.zeros_like(mean)
    else:
        aleatoric = np.sum(w * np.asarray(variances, dtype=float), axis=0)
    return mean, aleatoric, epistemic


def gaussian_prediction(
    mean: np.ndarray, aleatoric: np.ndarray, epistemic: np.ndarray
) -> Prediction:
    """A :class:`Prediction` (standard deviations) from a mixture's moments."""
    return Prediction(
        mean=mean,
        std=np.sqrt(aleatoric + epistemic),
        aleatoric=np.sqrt(aleatoric),
        epistemic=np.sqrt(epistemic),
    )


def entropy(probs: np.ndarray) -> np.ndarray:
    """The entropy in nats along the last axis (``0 log 0 = 0``)."""
    p = np.asarray(probs, dtype=float)
    return -np.sum(np.where(p > 0, p * np.log(np.maximum(p, _TINY)), 0.0), axis=-1)


def average_probabilities(probs: np.ndarray, weights: ArrayLike | None = None) -> ClassPrediction:
    """Average ``(members, n, classes)`` probabilities and split their entropy."""
    p = np.asarray(probs, dtype=float)
    w = normalized_weights(weights, len(p)).reshape(-1, 1, 1)
    mean = np.sum(w * p, axis=0)
    total = entropy(mean)
    aleatoric = np.sum(w[:, :, 0] * entropy(p), axis=0)
    return ClassPrediction(
        probs=mean, entropy=total, aleatoric=aleatoric, epistemic=np.maximum(total - aleatoric, 0)
    )
