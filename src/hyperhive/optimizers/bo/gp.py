"""A compact Gaussian process: Matérn 5/2 kernel with ARD lengthscales.

Each target column gets its own process with a constant mean, a signal
variance, one lengthscale per feature and a noise variance (at least a small
nugget). :meth:`GaussianProcess.fit` sets them by maximizing the log marginal
likelihood (L-BFGS-B with analytic gradients, from a default start and a few
random restarts, inside bounds suited to features in ``[0, 1]``; inactive
features sit at -1, far from every active value). :meth:`condition` then
factors the kernel matrix of the current data with those hyperparameters.

The epistemic variance is that of the latent function, the aleatoric one the
fitted noise variance.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize

from hyperhive.optimizers.bo.surrogates import Prediction, Surrogate

__all__ = ["GaussianProcess", "matern52"]

_SQRT5 = math.sqrt(5.0)
#: Bounds of the log hyperparameters: lengthscale, signal variance, noise variance.
_LOG_LS = (math.log(0.02), math.log(20.0))
_LOG_SF2 = (math.log(0.05), math.log(20.0))
_LOG_SN2 = (math.log(1e-6), math.log(2.0))


def _sqdist(a: np.ndarray, b: np.ndarray, ls: np.ndarray) -> np.ndarray:
    a, b = a / ls, b / ls
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def matern52(a: np.ndarray, b: np.ndarray, ls: np.ndarray, sf2: float) -> np.ndarray:
    """The Matérn 5/2 kernel matrix between the rows of ``a`` and ``b``."""
    r = np.sqrt(_sqdist(a, b, ls))
    return sf2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-_SQRT5 * r)


@dataclass
class _Column:
    """Hyperparameters and factorization of one target column."""

    ls: np.ndarray
    sf2: float
    sn2: float
    mean: float = 0.0
    chol: np.ndarray | None = None
    alpha: np.ndarray | None = None


def _pair_sq(x: np.ndarray) -> np.ndarray:
    """Squared feature differences of every pair of rows, as an ``(n * n, d)`` array."""
    return ((x[:, None, :] - x[None, :, :]) ** 2).reshape(len(x) * len(x), x.shape[1])


def _nll(
    theta: np.ndarray, pair_sq: np.ndarray, y: np.ndarray, nugget: float
) -> tuple[float, np.ndarray]:
    """Negative log marginal likelihood and its gradient in the log hyperparameters."""
    d = pair_sq.shape[1]
    n = len(y)
    inv_ls2 = np.exp(-2.0 * theta[:d])
    sf2, sn2 = math.exp(theta[d]), math.exp(theta[d + 1]) + nugget
    r = np.sqrt(np.maximum(pair_sq @ inv_ls2, 0.0)).reshape(n, n)
    e = np.exp(-_SQRT5 * r)
    kf = sf2 * (1.0 + _SQRT5 * r + (5.0 / 3.0) * r * r) * e
    k = kf + sn2 * np.eye(n)
    try:
        low = cholesky(k, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(theta)
    alpha = cho_solve((low, True), y, check_finite=False)
    nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(low)).sum())
    nll += 0.5 * n * math.log(2 * math.pi)
    inv = cho_solve((low, True), np.eye(n), check_finite=False)
    w = np.outer(alpha, alpha) - inv  # dNLL/dK = -w / 2
    grad = np.empty_like(theta)
    common = sf2 * (5.0 / 3.0) * (1.0 + _SQRT5 * r) * e  # dk/dlog(ls_j) = common * sq_j / ls_j^2
    grad[:d] = -0.5 * ((w * common).reshape(-1) @ pair_sq) * inv_ls2
    grad[d] = -0.5 * float((w * kf).sum())
    grad[d + 1] = -0.5 * float(np.trace(w)) * (sn2 - nugget)
    return nll, grad


class GaussianProcess(Surrogate):
    """Gaussian process regression, one process per target column.

    Args:
        n_restarts: Random restarts of the likelihood optimization (besides the
            default start).
        max_iter: L-BFGS-B iterations per start.
        nugget: Variance added to the diagonal for numerical stability.
    """

    name = "gp"

    def __init__(self, n_restarts: int = 1, max_iter: int = 50, nugget: float = 1e-6) -> None:
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.nugget = nugget
        self._cols: list[_Column] = []
        #: Log marginal likelihood of each column at its fitted hyperparameters
        #: (NaN for a constant column), set by :meth:`fit`.
        self.log_likelihood_: list[float] = []
        self._x = np.zeros((0, 0))
        self._y = np.zeros((0, 0))

    # -- hyperparameters -----------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        """Fit the hyperparameters of each column by maximum likelihood."""
        x = np.asarray(x, dtype=float)
        d = x.shape[1]
        bounds = [_LOG_LS] * d + [_LOG_SF2, _LOG_SN2]
        lo = np.array([b[0] for b in bounds])
        hi = np.array([b[1] for b in bounds])
        self._cols = []
        self.log_likelihood_ = []
        pair_sq = _pair_sq(x)
        for j in range(y.shape[1]):
            col = np.asarray(y[:, j], dtype=float)
            mu = float(col.mean()) if len(col) else 0.0
            resid = col - mu
            starts = [
                np.concatenate([np.full(d, math.log(0.5 * math.sqrt(max(d, 1)))), [0.0, -4.0]])
            ]
            starts += [rng.uniform(lo, hi) for _ in range(self.n_restarts)]
            best_theta, best_val = np.clip(starts[0], lo, hi), np.inf
            if len(col) >= 2 and float(np.ptp(col)) > 0:
                for s in starts:
                    res = minimize(
                        _nll,
                        np.clip(s, lo, hi),
                        args=(pair_sq, resid, self.nugget),
                        jac=True,
                        method="L-BFGS-B",
                        bounds=bounds,
                        options={"maxiter": self.max_iter},
                    )
                    if np.isfinite(res.fun) and res.fun < best_val:
                        best_theta, best_val = res.x, float(res.fun)
            self.log_likelihood_.append(-best_val if np.isfinite(best_val) else math.nan)
            self._cols.append(
                _Column(
                    ls=np.exp(best_theta[:d]),
                    sf2=math.exp(best_theta[d]),
                    sn2=math.exp(best_theta[d + 1]) + self.nugget,
                    mean=mu,
                )
            )

    @property
    def lengthscales(self) -> list[np.ndarray]:
        """Fitted lengthscales, one array per column."""
        return [c.ls for c in self._cols]

    # -- posterior -----------------------------------------------------------------------
    def condition(self, x: np.ndarray, y: np.ndarray) -> None:
        """Factor the kernel matrix of ``(x, y)`` with the fitted hyperparameters."""
        self._x = np.asarray(x, dtype=float)
        self._y = np.asarray(y, dtype=float)
        self._factor()

    def _factor(self) -> None:
        if not self._cols:
            raise RuntimeError("GaussianProcess.condition() before fit()")
        k = self._y.shape[1]
        if len(self._cols) != k:  # a target column appeared since the fit
            first = self._cols[0]
            extra = [_Column(first.ls, 1.0, first.sn2) for _ in range(k - len(self._cols))]
            self._cols = (self._cols + extra)[:k]
        for j, c in enumerate(self._cols):
            kern = matern52(self._x, self._x, c.ls, c.sf2)
            kern[np.diag_indices_from(kern)] += c.sn2
            jitter = 0.0
            for _ in range(6):
                try:
                    low = cholesky(kern + jitter * np.eye(len(kern)), lower=True)
                    break
                except np.linalg.LinAlgError:
                    jitter = max(jitter * 10.0, 1e-8 * c.sf2)
            else:  # pragma: no cover - a diagonal this large is always positive definite
                low = np.diag(np.sqrt(np.diag(kern) + 1.0))
            c.chol = low
            c.alpha = cho_solve((low, True), self._y[:, j] - c.mean)

    def fantasize(self, x: np.ndarray, y: np.ndarray) -> Surrogate:
        """A copy conditioned on the extra points too, with the same hyperparameters."""
        out = copy.copy(self)
        out._cols = [_Column(c.ls, c.sf2, c.sn2, c.mean) for c in self._cols]
        out._x = np.concatenate([self._x, x])
        out._y = np.concatenate([self._y, np.reshape(y, (len(x), -1))])
        out._factor()
        return out

    def _latent(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m, k = len(x), len(self._cols)
        mean, var = np.empty((m, k)), np.empty((m, k))
        for j, c in enumerate(self._cols):
            if c.chol is None or c.alpha is None:
                raise RuntimeError("GaussianProcess.predict() before condition()")
            ks = matern52(x, self._x, c.ls, c.sf2)
            mean[:, j] = c.mean + ks @ c.alpha
            v = solve_triangular(c.chol, ks.T, lower=True)
            var[:, j] = np.maximum(c.sf2 - (v * v).sum(0), 1e-12)
        return mean, var

    def predict(self, x: np.ndarray) -> Prediction:
        """Posterior mean, latent variance (epistemic) and noise variance (aleatoric)."""
        mean, var = self._latent(np.asarray(x, dtype=float))
        noise = np.broadcast_to(np.array([c.sn2 for c in self._cols]), mean.shape).copy()
        return Prediction(mean, var, noise)

    def sample(self, x: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
        """Independent draws from the marginal posterior of the latent function at each point."""
        mean, var = self._latent(np.asarray(x, dtype=float))
        return mean[None] + np.sqrt(var)[None] * rng.standard_normal((size, *mean.shape))
