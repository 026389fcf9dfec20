"""Recalibration of predicted variances, fitted on validation data.

Two maps of the total predictive variance, one per target:

- ``"scale"``: ``var' = c * var``, with ``c = mean(z**2)`` (``z`` the standardized
  validation residuals), the factor that minimizes the validation Gaussian NLL.
- ``"isotonic"``: ``var' = g(var)`` with ``g`` an increasing function fitted by
  isotonic regression of the squared residuals on the predicted variances; it can
  fix a miscalibration that depends on the variance itself.

``"auto"`` picks among no recalibration, ``"scale"`` and ``"isotonic"`` the one with
the lowest NLL on held-out halves of the validation data (two-fold cross-fitting),
then refits it on all of it: on a small validation set a map that would overfit is
not used. The aleatoric and epistemic
parts are rescaled by the same per-sample factor as the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperhive.ensemble import metrics

__all__ = ["METHODS", "Calibration", "fit_calibration"]

METHODS = ("auto", "scale", "isotonic", "none")
_FLOOR = 1e-12


@dataclass(frozen=True)
class Calibration:
    """A fitted variance map (per target); ``method="none"`` leaves variances as they are.

    Attributes:
        method: ``"none"``, ``"scale"`` or ``"isotonic"``.
        factors: for ``"scale"``, one factor per target.
        knots: for ``"isotonic"``, one ``(variances, calibrated variances)`` pair of
            increasing lists per target, interpolated linearly; beyond the ends a
            variance is multiplied by the end knot's ratio (so a point far less certain
            than any validation point stays so).
    """

    method: str = "none"
    factors: list[float] = field(default_factory=list)
    knots: list[tuple[list[float], list[float]]] = field(default_factory=list)

    def apply(self, variance: np.ndarray) -> np.ndarray:
        """Calibrated ``(n, k)`` variances."""
        var = np.asarray(variance, dtype=float)
        if self.method == "scale":
            return var * np.asarray(self.factors)
        if self.method == "isotonic":
            cols = [_interp(var[:, j], xs, ys) for j, (xs, ys) in enumerate(self.knots)]
            return np.maximum(np.stack(cols, axis=1), _FLOOR)
        return var

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {"method": self.method, "factors": self.factors, "knots": self.knots}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """The calibration :meth:`to_dict` wrote."""
        knots = [(list(x), list(y)) for x, y in data.get("knots", [])]
        return cls(data["method"], list(data.get("factors", [])), knots)


def _interp(v: np.ndarray, xs: list[float], ys: list[float]) -> np.ndarray:
    x, y = np.asarray(xs), np.asarray(ys)
    out = np.interp(v, x, y)
    lo, hi = v < x[0], v > x[-1]
    out[lo] = v[lo] * y[0] / max(x[0], _FLOOR)
    out[hi] = v[hi] * y[-1] / max(x[-1], _FLOOR)
    return out


def _fit(method: str, mean: np.ndarray, var: np.ndarray, y: np.ndarray) -> Calibration:
    var = np.maximum(var, _FLOOR)
    sq = (y - mean) ** 2
    if method == "scale":
        return Calibration("scale", factors=[float(f) for f in np.mean(sq / var, axis=0)])
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        knots = []
        for j in range(var.shape[1]):
            iso = IsotonicRegression(y_min=_FLOOR, out_of_bounds="clip").fit(var[:, j], sq[:, j])
            knots.append(
                ([float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_])
            )
        return Calibration("isotonic", knots=knots)
    return Calibration()


def fit_calibration(
    method: str, mean: np.ndarray, variance: np.ndarray, y: np.ndarray, seed: int = 0
) -> Calibration:
    """Fit a :class:`Calibration` on validation predictions ``(n, k)`` and targets.

    Args:
        method: ``"auto"``, ``"scale"``, ``"isotonic"`` or ``"none"``.
        mean, variance: the uncalibrated prediction.
        y: the targets.
        seed: the split of the two folds for ``"auto"``.

    Raises:
        ValueError: an unknown method.
    """
    if method not in METHODS:
        raise ValueError(f"calibrate must be one of {list(METHODS)}, got {method!r}")
    mean, variance = np.asarray(mean, float), np.asarray(variance, float)
    y = np.asarray(y, float).reshape(mean.shape)
    if method != "auto":
        return _fit(method, mean, variance, y)
    n = len(y)
    if n < 20:  # too few points to compare maps
        return _fit("scale", mean, variance, y)
    folds = np.random.default_rng(seed).permutation(n) % 2 == 0
    scores = {}
    for m in ("none", "scale", "isotonic"):
        nll = 0.0
        for train in (folds, ~folds):
            cal = _fit(m, mean[train], variance[train], y[train])
            held = ~train
            std = np.sqrt(cal.apply(variance[held]))
            nll += metrics.gaussian_nll(y[held], mean[held], std) * held.sum()
        scores[m] = nll / n
    best = min(scores, key=lambda k: scores[k])
    return _fit(best, mean, variance, y)
