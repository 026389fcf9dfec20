"""Learning-curve extrapolation: stop a trial unlikely to beat the best at ``max_steps``.

The trial's own curve (its reports, kept under its id in the rung store) is fitted by
three parametric families of losses in the step ``x`` (Domhan et al., 2015, use a
larger set of the same kind):

- power law ``c + a * x ** -alpha``,
- exponential ``c + a * exp(-beta * x)``,
- logarithmic ``c + a * log(x)``.

Each family is linear in ``(c, a)`` once its shape parameter is fixed, so it is fitted
by least squares over a fixed grid of shapes (deterministic, no optimizer, about a
millisecond). The forecast at ``max_steps`` is a mixture of the families, weighted by
their BIC, each a normal distribution whose spread is its residual error grown with
the extrapolation distance ``max_steps / step``, plus the spread between families.
The trial stops when the chance that its final loss beats the best loss recorded at
``max_steps`` is below ``1 - probability``: when the ``1 - probability`` quantile of the
forecast (its optimistic value) is dominated by a value some trial reached at
``max_steps``. With several objectives each is forecast on its own.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hyperhive.stoppers.base import Stopper, check_steps

if TYPE_CHECKING:
    from hyperhive.storage.rungs import RungStore

__all__ = ["LearningCurve", "forecast_quantile"]

_MIN_POINTS = 3


def _fit(y: Any, basis: Any, target: Any) -> tuple[float, float, float]:
    """Least squares ``y ~ c + a * b`` for each row ``b`` of ``basis``; the best row's
    (prediction at its ``target``, residual std, BIC)."""
    import numpy as np

    n = y.shape[0]
    bm = basis.mean(axis=1, keepdims=True)
    db = basis - bm
    var = np.sum(db * db, axis=1)
    dy = y - y.mean()
    a = np.where(var > 1e-300, (db @ dy) / np.maximum(var, 1e-300), 0.0)
    c = y.mean() - a * bm[:, 0]
    sse = np.sum((c[:, None] + a[:, None] * basis - y) ** 2, axis=1)
    i = int(np.argmin(sse))
    err = max(float(sse[i]), 1e-12)
    sigma = math.sqrt(err / max(n - 2, 1))
    bic = n * math.log(err / n) + 3 * math.log(n)
    return float(c[i] + a[i] * target[i]), sigma, bic


_ALPHAS = (0.05, 3.0, 16)
_BETAS = (0.01, 2.0, 16)


def forecast_quantile(steps: Any, losses: Any, max_steps: int, quantile: float) -> float:
    """The ``quantile`` of the mixture forecast of the loss at ``max_steps``."""
    import numpy as np
    from scipy.special import ndtr

    x = np.asarray(steps, dtype=float)
    y = np.asarray(losses, dtype=float)
    t = float(max_steps)
    alphas = np.geomspace(*_ALPHAS)[:, None]
    betas = np.geomspace(*_BETAS)[:, None]
    families = [
        (x[None, :] ** -alphas, t ** -alphas[:, 0]),
        (np.exp(-betas * x[None, :]), np.exp(-betas[:, 0] * t)),
        (np.log(x)[None, :], np.array([math.log(t)])),
    ]
    fits = [_fit(y, basis, target) for basis, target in families]
    preds = np.array([f[0] for f in fits])
    bics = np.array([f[2] for f in fits])
    w = np.exp(-(bics - bics.min()) / 2.0)
    w /= w.sum()
    grow = math.sqrt(t / x[-1])
    spread = float(np.sqrt(np.sum(w * (preds - np.sum(w * preds)) ** 2)))
    sds = np.array([f[1] * grow for f in fits]) + spread + 1e-9
    lo = float(np.min(preds - 8 * sds))
    hi = float(np.max(preds + 8 * sds))
    for _ in range(50):  # bisection on the mixture's CDF
        mid = 0.5 * (lo + hi)
        if float(np.sum(w * ndtr((mid - preds) / sds))) < quantile:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class LearningCurve(Stopper):
    """Stop a trial when its extrapolated curve is unlikely to beat the best at ``max_steps``.

    Args:
        min_steps: Reports needed (and the first step) before a trial may be stopped
            (at least 3 points are fitted).
        max_steps: The full training length (required here or from the search).
        probability: Stop when the chance to beat the best final value is below
            ``1 - probability``.
    """

    name = "lce"

    def __init__(
        self, min_steps: int = 3, max_steps: int | None = None, probability: float = 0.9
    ) -> None:
        super().__init__(min_steps, max_steps)
        p = probability
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 < p < 1.0:
            raise ValueError(f"probability must be a number in (0, 1), got {probability!r}")
        self.probability = float(p)
        self.key = "lce"

    def _setup(self) -> None:
        if self.max_steps is None:
            raise ValueError("LearningCurve needs max_steps (give it, or the search's)")

    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        max_steps = int(check_steps("max_steps", self.max_steps) or 0)
        if step >= max_steps:
            rungs.record(self.key, trial_id, max_steps, losses)
            return False
        rungs.record(self.key + ":curve", trial_id, step, losses)
        if step < self.min_steps or rungs.count(self.key, max_steps) == 0:
            return False
        curve = sorted(rungs.trial(self.key + ":curve", trial_id).items())
        if len(curve) < _MIN_POINTS:
            return False
        xs = [s for s, _ in curve]
        q = 1.0 - self.probability
        optimistic = []
        for j in range(len(losses)):
            ys = [v[j] for _, v in curve]
            if not all(math.isfinite(v) for v in ys):
                optimistic.append(math.inf)
                continue
            optimistic.append(forecast_quantile(xs, ys, max_steps, q))
        return rungs.dominating(self.key, max_steps, optimistic) > 0

    def __repr__(self) -> str:
        return (
            f"LearningCurve(min_steps={self.min_steps}, max_steps={self.max_steps}, "
            f"probability={self.probability})"
        )
