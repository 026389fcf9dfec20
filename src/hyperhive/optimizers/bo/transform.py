"""Model targets: objective scaling, outlier clipping, imputation of failed trials.

Surrogates see standardized targets whatever the objective's range: a loss
column (to minimize, NaN where the trial failed) goes through

1. scaling, one of :data:`SCALINGS` (step 2 comes first for ``"minmax"``):

   * ``"minmax"``: ``(y - min) / (max - min)``;
   * ``"log"``: ``log(y - min + delta)`` with ``delta`` a tenth of the median
     of ``y - min``, for losses spanning orders of magnitude;
   * ``"quantile"``: normal scores of the ranks (ties share their mean rank),
     immune to any monotone distortion and to extreme values;

2. clipping of the bad tail: values above ``q75 + clip * IQR`` are set to that
   bound, so a few disastrous trials do not flatten the model elsewhere (on
   the raw values for ``"minmax"``, on the logarithms for ``"log"``; ranks need
   none);
3. standardization to mean 0 and standard deviation 1 (all-equal values give
   zeros);
4. imputation of the failed rows, per :data:`IMPUTATIONS`: ``"worst"`` (the
   largest value, so the model learns to avoid failing regions), ``"mean"``
   (0), or ``"ignore"`` (the rows stay NaN and are left out by the caller).

Constraint columns (feasible when <= 0) keep their sign: they are divided by a
robust scale and bounded, and missing values take the column mean.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["IMPUTATIONS", "SCALINGS", "log_jacobian", "scale_constraints", "scale_losses"]

SCALINGS = ("minmax", "log", "quantile")
IMPUTATIONS = ("worst", "mean", "ignore")

#: Scaled constraint values are bounded to this magnitude.
CONSTRAINT_BOUND = 5.0


def _ranks(y: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their mean rank."""
    uniq, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mean_rank = starts + (counts - 1) / 2.0
    return mean_rank[inverse.reshape(-1)]


def _scale(y: np.ndarray, scaling: str) -> np.ndarray:
    lo, hi = float(np.min(y)), float(np.max(y))
    spread = hi - lo
    if not np.isfinite(spread):  # values near the float limits: work on halves
        y, lo, hi = y / 2.0, lo / 2.0, hi / 2.0
        spread = hi - lo
    if spread <= 0.0 or len(y) < 2:
        return np.zeros_like(y)
    if scaling == "minmax":
        return (y - lo) / spread
    if scaling == "log":
        gap = y - lo
        typical = float(np.median(gap))
        return np.log(gap + 0.1 * (typical if typical > 0 else spread))
    from scipy.special import ndtri

    return ndtri((_ranks(y) + 0.5) / len(y))


def _clip(z: np.ndarray, clip: float | None) -> np.ndarray:
    """``z`` with values above ``q75 + clip * IQR`` lowered to that bound."""
    if clip is None or len(z) < 4:
        return z
    q25, q75 = np.percentile(z, [25, 75])
    if not q75 > q25:
        return z
    with np.errstate(over="ignore"):
        bound = q75 + clip * (q75 - q25)
    return np.minimum(z, bound) if np.isfinite(bound) else z


def scale_losses(
    y: np.ndarray, scaling: str = "quantile", clip: float | None = 3.0, impute: str = "worst"
) -> np.ndarray:
    """Standardized model targets of one loss column (see the module docstring).

    Args:
        y: Losses to minimize, NaN (or infinite) where the trial has no value.
        scaling: One of :data:`SCALINGS`.
        clip: Bound of the bad tail in interquartile ranges above the third
            quartile; None keeps every value.
        impute: What failed rows become, one of :data:`IMPUTATIONS`.

    Returns:
        An array like ``y``; NaN only for failed rows with ``impute="ignore"``.
    """
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    out = np.full(y.shape, np.nan)
    if ok.any():
        z = y[ok]
        if scaling == "minmax":  # clip the raw values, which minmax then spreads evenly
            z = _clip(z, clip)
        z = _scale(z, scaling)
        if scaling == "log":
            z = _clip(z, clip)
        sd = float(np.std(z))
        scale = max(1.0, float(np.max(np.abs(z))))
        z = (z - float(np.mean(z))) / sd if sd > 1e-12 * scale else np.zeros_like(z)
        out[ok] = z
        worst = float(np.max(z))
    else:
        worst = 0.0
    if impute == "worst":
        out[~ok] = worst
    elif impute == "mean":
        out[~ok] = 0.0
    return out


def log_jacobian(
    y: np.ndarray, scaling: str, clip: float | None = 3.0, rows: np.ndarray | None = None
) -> float:
    """Sum of ``log |dz/dy|`` over finite losses, ``z`` the targets of :func:`scale_losses`.

    A model's log likelihood of the targets plus this term is its log likelihood
    of the losses themselves, which makes fits on differently scaled targets
    comparable (the change-of-variables rule). Clipping is left out (the
    derivative of the unclipped map is used for every value).

    Args:
        y: The loss column the scaling is computed from (NaN where failed).
        scaling: ``"minmax"`` or ``"log"`` (``"quantile"`` is not smooth).
        clip: As for :func:`scale_losses`.
        rows: Indices of ``y`` to sum over (default: all).

    Returns:
        The sum; 0 when the values are all equal, NaN when they overflow.

    Raises:
        ValueError: For another scaling.
    """
    if scaling not in ("minmax", "log"):
        raise ValueError(f"log_jacobian needs scaling 'minmax' or 'log', got scaling={scaling!r}")
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    z = y[ok]
    with np.errstate(over="ignore"):
        spread = float(np.max(z) - np.min(z)) if len(z) else 0.0
    if not math.isfinite(spread):
        return math.nan
    if len(z) < 2 or not spread > 0:
        return 0.0
    at = y[rows] if rows is not None else y
    at = at[np.isfinite(at)]
    lo = float(np.min(z))
    with np.errstate(over="ignore", invalid="ignore"):
        if scaling == "minmax":
            sd = float(np.std(_clip(z, clip)))
            out = -len(at) * math.log(sd) if sd > 0 else 0.0
        else:
            gap = z - lo
            typical = float(np.median(gap))
            delta = 0.1 * (typical if typical > 0 else spread)
            sd = float(np.std(_clip(np.log(gap + delta), clip)))
            out = 0.0
            if sd > 0:
                out = float(-np.sum(np.log(at - lo + delta)) - len(at) * math.log(sd))
    return out if math.isfinite(out) else math.nan


def scale_constraints(c: np.ndarray) -> np.ndarray:
    """Constraint columns divided by a robust scale and bounded; NaN becomes the column mean.

    The sign (feasible when <= 0) is kept. A column without any value becomes 0.
    """
    c = np.array(c, dtype=float, copy=True)
    if c.ndim == 1:
        c = c[:, None]
    for j in range(c.shape[1]):
        col = c[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            c[:, j] = 0.0
            continue
        scale = float(np.median(np.abs(col[ok])))
        if not np.isfinite(scale) or scale <= 1e-300:
            scale = float(np.max(np.abs(col[ok]))) or 1.0
        if not np.isfinite(scale):
            scale = 1e300
        z = np.clip(col / scale, -CONSTRAINT_BOUND, CONSTRAINT_BOUND)
        z[~ok] = float(np.mean(z[ok]))
        c[:, j] = z
    return c
