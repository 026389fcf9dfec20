"""Acquisition functions and the exploration schedule of UCB.

Every function here returns a *utility*: larger is better. Predictions are of
losses (smaller is better) in the model's standardized units.

* ``"ucb"``: ``-(mean - kappa * std)``, the lower confidence bound of the loss;
* ``"ei"``: expected improvement over the incumbent ``best`` by at least ``xi``;
* ``"pi"``: probability of improving on ``best`` by at least ``xi``;
* ``"ts"``: Thompson sampling, minus one draw of the posterior.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ACQUISITIONS", "SCHEDULES", "KappaSchedule", "expected_improvement", "ucb"]

ACQUISITIONS = ("ucb", "ei", "pi", "ts")
SCHEDULES = ("constant", "decay", "periodic")

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def ucb(mean: np.ndarray, std: np.ndarray, kappa: float | np.ndarray) -> np.ndarray:
    """Minus the lower confidence bound ``mean - kappa * std`` (increasing in ``kappa``)."""
    return kappa * std - mean


def expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """``E[max(best - xi - f, 0)]`` for ``f ~ N(mean, std^2)``; never negative."""
    from scipy.special import ndtr

    std = np.maximum(std, 1e-12)
    gain = best - xi - mean
    z = gain / std
    out = gain * ndtr(z) + std * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    return np.maximum(out, 0.0)


def probability_of_improvement(
    mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0
) -> np.ndarray:
    """``P(f < best - xi)`` for ``f ~ N(mean, std^2)``."""
    from scipy.special import ndtr

    return ndtr((best - xi - mean) / np.maximum(std, 1e-12))


class KappaSchedule:
    """The exploration weight of UCB as a function of the trial index.

    Args:
        kappa: The weight at the start (and throughout with ``"constant"``).
        schedule: ``"constant"``; ``"decay"``: ``kappa * rate ** t`` for the
            ``t``-th model-based proposal, never below ``kappa_min``;
            ``"periodic"``: the same decay restarted every ``period`` proposals,
            alternating bursts of exploration and exploitation.
        kappa_min: The floor of the decaying schedules.
        rate: Decay factor per proposal (in ``(0, 1]``).
        period: Length of a cycle of ``"periodic"``.

    Raises:
        ValueError: On an unknown schedule or out-of-range numbers.
    """

    def __init__(
        self,
        kappa: float = 1.96,
        schedule: str = "constant",
        kappa_min: float = 0.1,
        rate: float = 0.9,
        period: int = 25,
    ) -> None:
        if schedule not in SCHEDULES:
            raise ValueError(f"kappa_schedule must be one of {SCHEDULES}, got {schedule!r}")
        if not (kappa >= 0 and math.isfinite(kappa)):
            raise ValueError(f"kappa must be a finite number >= 0, got {kappa!r}")
        if not 0 < rate <= 1:
            raise ValueError(f"the decay rate must be in (0, 1], got {rate!r}")
        if period < 1:
            raise ValueError(f"the period must be >= 1, got {period!r}")
        self.kappa = float(kappa)
        self.schedule = schedule
        self.kappa_min = min(float(kappa_min), self.kappa)
        self.rate = float(rate)
        self.period = int(period)

    def __call__(self, t: int) -> float:
        """The weight of the ``t``-th model-based proposal (``t >= 0``)."""
        if self.schedule == "constant":
            return self.kappa
        step = t % self.period if self.schedule == "periodic" else t
        return max(self.kappa_min, self.kappa * self.rate ** max(step, 0))


def utility(
    kind: str,
    mean: np.ndarray,
    std: np.ndarray,
    *,
    best: float,
    kappa: float,
    xi: float,
    draw: np.ndarray | None = None,
) -> np.ndarray:
    """The utility of acquisition ``kind`` (see :data:`ACQUISITIONS`) at each candidate.

    Args:
        kind: The acquisition function.
        mean: Predicted loss.
        std: Predictive standard deviation.
        best: Incumbent loss (EI and PI).
        kappa: Exploration weight (UCB).
        xi: Required margin of improvement (EI and PI).
        draw: A posterior draw at the candidates (Thompson sampling).
    """
    if kind == "ucb":
        return ucb(mean, std, kappa)
    if kind == "ei":
        return expected_improvement(mean, std, best, xi)
    if kind == "pi":
        return probability_of_improvement(mean, std, best, xi)
    if kind == "ts":
        if draw is None:
            raise ValueError("Thompson sampling needs a posterior draw")
        return -draw
    raise ValueError(f"acquisition must be one of {ACQUISITIONS}, got {kind!r}")
