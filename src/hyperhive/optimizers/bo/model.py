"""The surrogate of a search: which one, when it is refitted, on which rows."""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import numpy as np

from hyperhive.optimizers.bo.data import Observations, Targets
from hyperhive.optimizers.bo.surrogates import Surrogate

__all__ = ["FIT_CAP", "ModelCache", "fit_rows", "have_sklearn", "make_surrogate", "one_thread"]

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
def have_sklearn() -> bool:
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

    With ``background`` set (a search with several workers), a refit due after
    the first one runs in a thread of its own: until it is done, the previous
    structure is used, conditioned on every row, so no proposal waits for a
    fit. The fit itself is the same (same rows, same random stream); only the
    proposal at which it is first used depends on timing.

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
        self._scaling = ""
        self._conditioned_on = -1
        self._thresholds = [1]
        #: Refit in a thread (see the class docstring).
        self.background = False
        self._fitting: Future | None = None
        self._fitting_at: tuple[int, str] | None = None
        #: Refits done in the background thread (for tests and benchmarks).
        self.background_fits = 0

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
            return "gp" if m <= self.gp_max_points or not have_sklearn() else "et"
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
        self._take_background_fit()
        if self._model is None or self._fitted_at != (m, name):
            custom = isinstance(self.surrogate, Surrogate)
            if self.background and self._model is not None and not custom:
                if self._fitting is None:
                    self._start_fit(data, m, name, scaling)
            else:
                model, key = self._fit(data, m, name, scaling), (m, name)
                self._model, self._fitted_at, self._scaling = model, key, scaling
                self._conditioned_on = -1
        targets = data.targets(n, self._scaling)
        if self._conditioned_on != n:
            self._model.condition(targets.x, targets.z)
            self._conditioned_on = n
        return self._model, targets

    def _fit_inputs(
        self, data: Observations, m: int, name: str, scaling: str
    ) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
        """Rows, targets and random stream of a fit on the first ``m`` rows."""
        fit_on = data.targets(m, scaling)
        keep = fit_rows(fit_on, self.max_fit_points or FIT_CAP.get(name, len(fit_on.x)))
        return fit_on.x[keep], fit_on.z[keep], self.derive_rng(_FIT_STREAM, m)

    def _fit(self, data: Observations, m: int, name: str, scaling: str) -> Surrogate:
        """A surrogate fitted on the first ``m`` rows (structure and hyperparameters)."""
        if isinstance(self.surrogate, Surrogate):
            model = self.surrogate
        else:
            model = make_surrogate(name, self.n_trees)
        model.fit(*self._fit_inputs(data, m, name, scaling))
        return model

    def _start_fit(self, data: Observations, m: int, name: str, scaling: str) -> None:
        """Fit on the first ``m`` rows in a thread (fancy indexing made ``x`` and ``z``
        copies of their own, so the search may add rows meanwhile)."""
        x, z, rng = self._fit_inputs(data, m, name, scaling)
        fut: Future = Future()

        def work() -> None:
            try:
                model = make_surrogate(name, self.n_trees)
                with one_thread():
                    model.fit(x, z, rng)
            except BaseException as exc:  # noqa: BLE001 - handed to the asking thread
                fut.set_exception(exc)
            else:
                fut.set_result((model, scaling))

        self._fitting, self._fitting_at = fut, (m, name)
        threading.Thread(target=work, name="hyperhive-refit", daemon=True).start()

    def _take_background_fit(self) -> None:
        """Use the model the background thread fitted, once it is ready."""
        fut = self._fitting
        if fut is None or not fut.done():
            return
        self._fitting = None
        model, scaling = fut.result()  # a failed fit raises here, as it would inline
        self._model, self._fitted_at, self._scaling = model, self._fitting_at, scaling
        self._conditioned_on = -1
        self.background_fits += 1

    def wait(self) -> None:
        """Block until a background refit in progress is done (it is then used)."""
        if self._fitting is not None:
            self._fitting.result()
