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
from hyperhive.optimizers.bo.transform import log_jacobian
from hyperhive.streams import Stream

__all__ = ["FIT_CAP", "ModelCache", "fit_rows", "have_sklearn", "make_surrogate", "one_thread"]

#: Default cap on the rows a surrogate is fitted on (it is conditioned on all).
FIT_CAP = {"gp": 80, "et": 2000, "rf": 2000}


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
        self._fitting: Future[tuple[Surrogate, str]] | None = None
        self._fitting_at: tuple[int, str] | None = None
        #: Refits done in the background thread (for tests and benchmarks).
        self.background_fits = 0
        #: Called in the fitting thread before a fit: BO waits there for its
        #: preparation to have imported what the fit needs.
        self.before_fit: Callable[[], None] | None = None

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
        m, name, scalings = self._plan(data)
        self._take_background_fit()
        if self._model is None or self._fitted_at != (m, name):
            custom = isinstance(self.surrogate, Surrogate)
            job = self._fit_job(data, m, name, scalings)
            if self.background and self._model is not None and not custom:
                if self._fitting is None:
                    self._start_fit(job, (m, name))
            else:
                self._model, self._scaling = job()
                self._fitted_at = (m, name)
                self._conditioned_on = -1
        targets = data.targets(n, self._scaling)
        if self._conditioned_on != n:
            self._model.condition(targets.x, targets.z)
            self._conditioned_on = n
        return self._model, targets

    def has_model(self) -> bool:
        """True once a model was fitted (taking a finished background fit)."""
        self._take_background_fit()
        return self._model is not None

    def start_first_fit(self, data: Observations) -> None:
        """Start the first fit in the background thread, unless one runs or is done.

        With several workers the search need not wait for it: until it is
        done, the optimizer proposes quasi-random points.
        """
        if self._model is not None or self._fitting is not None:
            return
        m, name, scalings = self._plan(data)
        self._start_fit(self._fit_job(data, m, name, scalings), (m, name))

    def _plan(self, data: Observations) -> tuple[int, str, tuple[str, ...]]:
        """The rows, surrogate and candidate scalings of the fit due for ``data``."""
        n = len(data)
        m = self.fit_size(n)
        name = self.name(m)
        scalings = self.scalings(name)
        if len(data.targets(m, scalings[0]).x) < 2:  # too little to fit on: use everything
            m = n
        return m, name, scalings

    def scalings(self, name: str) -> tuple[str, ...]:
        """The objective scalings a fit of ``name`` chooses from.

        ``"auto"`` gives the GP the choice of min-max or log scaling, whichever
        makes the losses themselves more likely under the fitted model (the
        likelihood of the targets corrected by :func:`log_jacobian`): a loss
        spanning orders of magnitude, such as Rosenbrock's, is then modeled in
        log space and a bounded one linearly. The GP stays linear with several
        objectives (the Chebyshev scalarization of log-scaled objectives chases
        the ends of the front: DTLZ2's hypervolume fell from 0.18 to 0.005) and
        while any trial has failed (a failure imputed at the worst value would
        repel far less in log space). The trees take rank (quantile) targets.
        These rules are the better ones by benchmark.
        """
        if self.scaling != "auto":
            return (self.scaling,)
        return ("minmax", "log") if name == "gp" else ("quantile",)

    def _fit_job(
        self, data: Observations, m: int, name: str, scalings: tuple[str, ...]
    ) -> Callable[[], tuple[Surrogate, str]]:
        """A function fitting on the first ``m`` rows and returning the model and its scaling.

        Its inputs are copied now (fancy indexing), so it may run in a thread
        while the search adds rows.
        """
        cap = self.max_fit_points or FIT_CAP.get(name, m)
        if len(scalings) > 1 and (data.k > 1 or not np.isfinite(data.loss[:m]).all()):
            # several objectives: their scalarization needs linear scales; failures
            # imputed at the worst value repel only linearly
            scalings = scalings[:1]
        options = []
        for scaling in scalings:
            fit_on = data.targets(m, scaling)
            keep = fit_rows(fit_on, cap)
            jacobian = 0.0
            if len(scalings) > 1:
                loss = data.loss[:m][fit_on.rows]
                for j in range(data.k):
                    jacobian += log_jacobian(loss[:, j], scaling, data.clip, keep)
            options.append((scaling, fit_on.x[keep], fit_on.z[keep], jacobian))
        if not all(math.isfinite(o[3]) for o in options):  # values near the float limits
            options = options[:1]
        custom = self.surrogate if isinstance(self.surrogate, Surrogate) else None
        k, derive = data.k, self.derive_rng
        hook = self.before_fit

        def job() -> tuple[Surrogate, str]:
            if hook is not None:
                hook()
            fitted = []
            for scaling, x, z, jacobian in options:
                model = custom if custom is not None else make_surrogate(name, self.n_trees)
                model.fit(x, z, derive(Stream.BO_FIT, m))
                if len(options) == 1:
                    return model, scaling
                ll = getattr(model, "log_likelihood_", None)
                score = float(np.sum(ll[:k])) + jacobian if ll else math.nan
                fitted.append((score if math.isfinite(score) else -math.inf, model, scaling))
            _, model, scaling = max(fitted, key=lambda f: f[0])  # the first on ties
            return model, scaling

        return job

    def _start_fit(self, job: Callable[[], tuple[Surrogate, str]], key: tuple[int, str]) -> None:
        """Run ``job`` in a thread; :meth:`_take_background_fit` picks its model up."""
        fut: Future[tuple[Surrogate, str]] = Future()

        def work() -> None:
            try:
                with one_thread():
                    result = job()
            except BaseException as exc:  # noqa: BLE001 - handed to the asking thread
                fut.set_exception(exc)
            else:
                fut.set_result(result)

        self._fitting, self._fitting_at = fut, key
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
