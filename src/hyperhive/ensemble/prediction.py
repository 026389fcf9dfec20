"""What an ensemble predicts: a Gaussian per target, or class probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ClassPrediction", "Prediction"]


@dataclass(frozen=True)
class Prediction:
    """A regression ensemble's prediction, summarized as a Gaussian per target.

    Standard deviations, not variances: ``std**2 == aleatoric**2 + epistemic**2``
    (the law of total variance). Arrays are ``(n,)`` for one target, else ``(n, k)``.

    Attributes:
        mean: the mixture's mean.
        std: the total predictive standard deviation (after calibration, if any).
        aleatoric: the noise the members expect in the data: the square root of the
            weighted mean of the members' variances.
        epistemic: the members' disagreement: the square root of the weighted
            variance of the members' means.
    """

    mean: np.ndarray
    std: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        """``std ** 2``."""
        return self.std**2

    def interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` interval ``(low, high)`` of the Gaussian.

        Raises:
            ValueError: ``level`` is not in (0, 1).
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        half = stats.norm.ppf(0.5 + level / 2) * self.std
        return self.mean - half, self.mean + half


@dataclass(frozen=True)
class ClassPrediction:
    """A classification ensemble's prediction: averaged probabilities and their entropy.

    Attributes:
        probs: ``(n, classes)`` weighted mean of the members' probabilities.
        entropy: the total uncertainty, the entropy of ``probs`` (nats).
        aleatoric: the expected entropy (the weighted mean of the members' entropies).
        epistemic: the mutual information, ``entropy - aleatoric`` (>= 0).
    """

    probs: np.ndarray
    entropy: np.ndarray
    aleatoric: np.ndarray
    epistemic: np.ndarray

    @property
    def label(self) -> np.ndarray:
        """The most probable class of each sample."""
        return np.argmax(self.probs, axis=-1)
