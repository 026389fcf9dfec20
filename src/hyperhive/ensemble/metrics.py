"""Scores of a predictive distribution against targets.

A regression prediction is scored as the Gaussian ``N(mean, std**2)`` it is
summarized by (the mixture's mean and total variance), so every metric has a
closed form: the negative log-likelihood, the CRPS (Gneiting and Raftery 2007),
the coverage of central intervals, the calibration error and the sharpness.
Several targets are scored element-wise and averaged.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from hyperhive.ensemble.prediction import ClassPrediction, Prediction

__all__ = [
    "CALIBRATION_LEVELS",
    "calibration_error",
    "classification_metrics",
    "coverage",
    "crps_gaussian",
    "gaussian_nll",
    "log_loss",
    "regression_metrics",
]

CALIBRATION_LEVELS = np.linspace(0.05, 0.95, 19)
"""The quantile levels at which :func:`calibration_error` compares frequencies."""

MIN_STD = 1e-9
_LOG_2PI = math.log(2 * math.pi)


def _std(std: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(std, dtype=float), MIN_STD)


def gaussian_nll(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """The mean negative log-likelihood of ``y`` under ``N(mean, std**2)`` (nats)."""
    s = _std(std)
    z = (np.asarray(y, dtype=float) - mean) / s
    return float(np.mean(0.5 * _LOG_2PI + np.log(s) + 0.5 * z**2))


def crps_gaussian(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """The mean continuous ranked probability score of ``N(mean, std**2)`` (closed form)."""
    s = _std(std)
    z = (np.asarray(y, dtype=float) - mean) / s
    per = s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    return float(np.mean(per))


def coverage(y: np.ndarray, mean: np.ndarray, std: np.ndarray, level: float) -> float:
    """The fraction of ``y`` inside the central ``level`` interval."""
    half = stats.norm.ppf(0.5 + level / 2) * _std(std)
    return float(np.mean(np.abs(np.asarray(y, dtype=float) - mean) <= half))


def calibration_error(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Mean absolute gap between each quantile level and how often ``y`` falls below it.

    The probability integral transform ``F(y)`` of a calibrated forecast is uniform:
    for each level ``q`` in :data:`CALIBRATION_LEVELS` the observed frequency of
    ``F(y) <= q`` is compared with ``q`` (Kuleshov et al. 2018, absolute gaps).
    """
    pit = stats.norm.cdf((np.asarray(y, dtype=float) - mean) / _std(std)).ravel()
    observed = np.array([np.mean(pit <= q) for q in CALIBRATION_LEVELS])
    return float(np.mean(np.abs(observed - CALIBRATION_LEVELS)))


def regression_metrics(pred: Prediction, y: np.ndarray) -> dict[str, float]:
    """``nll``, ``crps``, ``rmse``, ``coverage_90``, ``coverage_95``,
    ``calibration_error`` and ``sharpness`` (the mean predicted std)."""
    y = np.asarray(y, dtype=float).reshape(np.shape(pred.mean))
    m, s = pred.mean, pred.std
    return {
        "nll": gaussian_nll(y, m, s),
        "crps": crps_gaussian(y, m, s),
        "rmse": float(np.sqrt(np.mean((y - m) ** 2))),
        "coverage_90": coverage(y, m, s, 0.90),
        "coverage_95": coverage(y, m, s, 0.95),
        "calibration_error": calibration_error(y, m, s),
        "sharpness": float(np.mean(s)),
    }


def log_loss(y: np.ndarray, probs: np.ndarray) -> float:
    """The mean negative log-probability of the true classes."""
    p = np.asarray(probs, dtype=float)
    idx = np.asarray(y).astype(int).ravel()
    picked = p[np.arange(len(idx)), idx]
    return float(-np.mean(np.log(np.maximum(picked, 1e-12))))


def classification_metrics(
    pred: ClassPrediction, y: np.ndarray, bins: int = 10
) -> dict[str, float]:
    """``nll``, ``accuracy``, ``brier``, ``calibration_error`` (expected calibration
    error of the top class over ``bins`` equal-width bins), ``entropy``, ``aleatoric``
    and ``epistemic`` (means over the samples)."""
    labels = np.asarray(y).astype(int).ravel()
    p = pred.probs
    onehot = np.eye(p.shape[1])[labels]
    conf = p.max(axis=1)
    hit = (p.argmax(axis=1) == labels).astype(float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    ece = sum(
        abs(hit[which == b].mean() - conf[which == b].mean()) * np.mean(which == b)
        for b in range(bins)
        if np.any(which == b)
    )
    return {
        "nll": log_loss(labels, p),
        "accuracy": float(hit.mean()),
        "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
        "calibration_error": float(ece),
        "entropy": float(pred.entropy.mean()),
        "aleatoric": float(pred.aleatoric.mean()),
        "epistemic": float(pred.epistemic.mean()),
    }
