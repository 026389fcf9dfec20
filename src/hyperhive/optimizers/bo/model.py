"""The surrogate of a search: which one, when it is refitted, on which rows."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from hyperhive.optimizers.bo.data import Observations, Targets
from hyperhive.optimizers.bo.surrogates import Surrogate

__all__ = ["FIT_CAP", "ModelCache", "fit_rows", "make_surrogate", "one_thread"]

#: Default cap on the rows a surrogate is fitted on (it is conditioned on all).
FIT_CAP = {"gp": 80, "et": 2000, "rf": 2000}

# Spawn-key tag of the fitting stream (BO's tags are 20 and up).
_FIT_STREAM = 22


def make_surrogate(name: str, n_trees: int = 32) -> Surrogate:
    """A fresh surrogate by name: ``"gp"``, ``"et"`` or ``"rf"``."""
    if name == "gp":
        from hyperhive.optimizers.bo.gp import GaussianProcess

        return GaussianProcess()
    from hyperhive.optimizers.bo.surrogates import TreeEnsemble

    return TreeEnsemble(kind=name, n_trees=n_trees)


def fit_rows(data: Targets, cap: int) -> np.ndarray:
    """Rows to fit on: all, or the best quarter of ``cap`` and the most recent others."""
    n = len(data.x)
    if n <= cap:
        return np.arange(n)
    k = data.n_objectives
    z = data.z[:, :k].sum(axis=1)
    best = np.argsort(np.where(data.observed, z, np.inf), kind="stable")[: cap // 4]
    recent = np.setdiff1d(np.arange(n), best)[-(cap - len(best)) :]
    return np.sort(np.concatenate([best, recent]))


_controller: Any = None


@functools.lru_cache(maxsize=1)
def _have_sklearn() -> bool:
    """True when scikit-learn (for the tree ensembles) can be imported."""
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS to one thread: the matrices are small and threads only contend."""
    global _controller
    if _controller is None:
        # scipy may bundle its own BLAS: load it before the controller lists libraries.
        import scipy.linalg  # noqa: F401
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield


class ModelCache:
    """The surrogate conditioned on the observations, refitted on a fixed schedule.

    The structure (trees, kernel hyperparameters) is refitted on the first
    ``m`` rows, ``m`` the last size of the schedule ``t -> t + max(1,
    floor(t * refit_fraction))`` not above the number of rows, from a random
    stream keyed by ``m``; the model is then conditioned on every row. So it
    is a function of the rows alone, whenever it is asked for.

    Args:
        surrogate: ``"auto"``, ``"gp"``, ``"et"``, ``"rf"`` or an instance.
        scaling: Objective scaling, or ``"auto"`` (minmax for the GP, quantile
            for the trees).
        refit_fraction: Growth of the data that triggers a refit.
        gp_max_points: Rows up to which ``"auto"`` uses the GP (throughout
            when scikit-learn is missing).
        max_fit_points: Cap on the rows of a fit (None: :data:`FIT_CAP`).
        n_trees: Trees of the ensembles.
        derive_rng: The optimizer's ``derive_rng``.
    """

    def __init__(
        self,
        surrogate: str | Surrogate,
        scaling: str,
        refit_fraction: float,
        gp_max_points: int,
        max_fit_points: int | None,
        n_trees: int,
        derive_rng: Callable[..., np.random.Generator],
    ) -> None:
        self.surrogate = surrogate
        self.scaling = scaling
        self.refit_fraction = refit_fraction
        self.gp_max_points = gp_max_points
        self.max_fit_points = max_fit_points
        self.n_trees = n_trees
        self.derive_rng = derive_rng
        self._model: Surrogate | None = None
        self._fitted_at: tuple[int, str] | None = None
        self._conditioned_on = -1
        self._thresholds = [1]

    def fit_size(self, n: int) -> int:
        """The data size of the last refit for ``n`` rows."""
        th = self._thresholds
        while th[-1] <= n:
            th.append(th[-1] + max(1, math.floor(th[-1] * self.refit_fraction)))
        i = int(np.searchsorted(th, n, side="right")) - 1
        return th[max(i, 0)]

    def name(self, m: int) -> str:
        """The surrogate used when fitting on ``m`` rows."""
        if isinstance(self.surrogate, Surrogate):
            return "custom"
        if self.surrogate == "auto":
            return "gp" if m <= self.gp_max_points or not _have_sklearn() else "et"
        return str(self.surrogate)

    def get(self, data: Observations) -> tuple[Surrogate, Targets]:
        """The surrogate conditioned on every row of ``data``, and the targets it saw."""
        n = len(data)
        m = self.fit_size(n)
        name = self.name(m)
        scaling = self.scaling
        if scaling == "auto":
            scaling = "minmax" if name == "gp" else "quantile"
        if len(data.targets(m, scaling).x) < 2:  # too little to fit on: use everything
            m = n
        if self._model is None or self._fitted_at != (m, name):
            fit_on = data.targets(m, scaling)
            if isinstance(self.surrogate, Surrogate):
                model = self.surrogate
            else:
                model = make_surrogate(name, self.n_trees)
            keep = fit_rows(fit_on, self.max_fit_points or FIT_CAP.get(name, len(fit_on.x)))
            model.fit(fit_on.x[keep], fit_on.z[keep], self.derive_rng(_FIT_STREAM, m))
            self._model, self._fitted_at, self._conditioned_on = model, (m, name), -1
        targets = data.targets(n, scaling)
        if self._conditioned_on != n:
            self._model.condition(targets.x, targets.z)
            self._conditioned_on = n
        return self._model, targets
