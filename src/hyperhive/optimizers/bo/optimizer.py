"""Asynchronous Bayesian optimization: the :class:`BO` optimizer."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from hyperhive.optimizers._sampling import config_key, keys_of, sample_unique
from hyperhive.optimizers.base import Optimizer
from hyperhive.optimizers.bo import acquisition as acq
from hyperhive.optimizers.bo.candidates import CandidateSettings, maximize
from hyperhive.optimizers.bo.codec import Codec, Rows
from hyperhive.optimizers.bo.data import Observations, Targets
from hyperhive.optimizers.bo.design import Design, initial_design_size
from hyperhive.optimizers.bo.model import ModelCache, have_sklearn, one_thread
from hyperhive.optimizers.bo.multi import random_weights
from hyperhive.optimizers.bo.scoring import best_rows, lie_values, make_scorer
from hyperhive.optimizers.bo.surrogates import Surrogate
from hyperhive.optimizers.bo.transform import IMPUTATIONS, SCALINGS
from hyperhive.streams import Stream
from hyperhive.trial import Trial, TrialStatus

__all__ = ["BO", "INCUMBENTS", "LIARS", "SURROGATES"]

SURROGATES = ("auto", "gp", "et", "rf")
LIARS = ("min", "mean", "max", "believer", "qucb", None)
INCUMBENTS = ("best", "mean")


#: Incumbents mutated by the local search.
_N_ANCHORS = 5


class BO(Optimizer):
    """Asynchronous Bayesian optimization over mixed and conditional spaces.

    The first ``n_initial`` configurations come from a scrambled Halton design;
    then each proposal maximizes an acquisition function of a surrogate model
    over candidates drawn at random, quasi-randomly and around the incumbents
    (see :mod:`~hyperhive.optimizers.bo.candidates`). Trials still running are
    accounted for (``liar``) so that a batch spreads out, and no proposal
    repeats a configuration told, pending or earlier in the batch.

    The default surrogate is a Gaussian process while there are at most
    ``gp_max_points`` observations, extremely randomized trees after. By
    benchmark (Branin, Hartmann-6, Ackley-5 and -10, Levy-10, a conditional
    mixed space; 5 seeds) the GP is clearly better at small budgets (60
    evaluations) on all but Levy-10, and at 250 evaluations the switch at 150
    is on par with the GP alone, while the trees keep the cost per trial flat
    over thousands of trials. The GP chooses at each refit between targets
    scaled min-max and log-scaled ones by likelihood, the trees work on
    quantile (rank) targets, each the better by benchmark.

    Cost: the model is refitted from scratch (tree structures, kernel
    hyperparameters) only when the data has grown by ``refit_fraction`` since
    the last fit (at every result while it is small), on at most
    ``max_fit_points`` rows; in between, results update it cheaply (leaf
    statistics of the trees, the Cholesky factor of the GP). Pending trials
    and batch points are added as fantasies, again without refit. The model
    is a function of the history alone, never of when asks happened, so the
    optimizer is replay-deterministic. With several workers the refits run in
    a background thread (``background_refit``), so none delays a proposal.

    Args:
        seed: Seed of the search; None for a fresh one.
        surrogate: ``"auto"`` (a Gaussian process up to ``gp_max_points``
            observations, extremely randomized trees after; the GP throughout
            without scikit-learn), ``"gp"``, ``"et"``
            (extremely randomized trees) or ``"rf"`` (random forest), or a
            :class:`~hyperhive.optimizers.bo.surrogates.Surrogate` instance.
        acquisition: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"ts"`` (Thompson sampling).
        liar: How pending trials count: ``"min"``, ``"mean"`` or ``"max"`` (a
            constant lie at the min/mean/max of the observed targets, added to
            the model without refit), ``"believer"`` (the default: the lie is
            the model's own prediction, so only the uncertainty there shrinks;
            best in the asynchronous benchmarks, 8 workers on 11 problems),
            ``"qucb"`` (no lie; each proposal made while others are pending
            draws its own UCB weight from an exponential distribution of mean
            ``kappa``; with another acquisition it only excludes pending
            configurations), or None (pending configurations are only excluded).
        n_initial: Size of the initial design; None for :func:`initial_design_size`.
        kappa: Exploration weight of UCB.
        kappa_schedule: ``"constant"``, ``"decay"`` or ``"periodic"`` (see
            :class:`~hyperhive.optimizers.bo.acquisition.KappaSchedule`).
        xi: Margin of improvement of EI and PI, in standardized units.
        epistemic_only: Use only the epistemic part of the predictive variance.
        scaling: Objective scaling, ``"quantile"``, ``"minmax"`` or ``"log"``, or
            ``"auto"``: for the GP, minmax or log, whichever makes the observed
            values more likely under the fitted model (log wins for losses
            spanning orders of magnitude); quantile for the trees. Best by
            benchmark (see :meth:`~hyperhive.optimizers.bo.model.ModelCache.scalings`).
        failed: Targets of failed and timed-out trials: ``"worst"``, ``"mean"``
            or ``"ignore"``.
        clip: Bad-tail clipping in interquartile ranges (None: no clipping).
        objective_bounds: Per objective, a value it must reach in its own
            direction, or None; modeled as constraints.
        incumbent: ``"best"`` (best observed value) or ``"mean"`` (best
            posterior mean, for noisy objectives), for EI/PI and :meth:`incumbent`.
        n_candidates: Candidates scored per proposal (None: by dimension).
        refit_fraction: Relative growth of the data that triggers a refit.
        gp_max_points: Observations up to which ``"auto"`` uses the GP.
        max_fit_points: Rows a refit learns the structure from (the best
            quarter and the most recent others; the model is still conditioned
            on every row); None for 80 with the GP and 2000 with trees.
        n_trees: Trees of the ensembles.
        onehot: Encode categoricals one-hot (else by index).
        background_refit: Refit the model in a background thread, the proposals
            using the previous fit (conditioned on every result) until it is
            done (before the first fit, quasi-random points); None (default):
            when the search runs several trials at once (:meth:`set_concurrency`),
            so that no worker waits for a refit. A serial search, and ask/tell
            use, refit inline and stay deterministic.

    Raises:
        ValueError: On an unknown option or an out-of-range number.
    """

    name: ClassVar[str] = "bo"
    replay_deterministic = True
    ask_ahead: ClassVar[bool] = True
    prepares_lazily: ClassVar[bool] = True

    def __init__(
        self,
        seed: int | None = None,
        surrogate: str | Surrogate = "auto",
        acquisition: str = "ucb",
        liar: str | None = "believer",
        n_initial: int | None = None,
        kappa: float = 1.96,
        kappa_schedule: str = "constant",
        xi: float = 0.01,
        epistemic_only: bool = False,
        scaling: str = "auto",
        failed: str = "worst",
        clip: float | None = 3.0,
        objective_bounds: Sequence[float | None] | None = None,
        incumbent: str = "best",
        n_candidates: int | None = None,
        refit_fraction: float = 0.1,
        gp_max_points: int = 150,
        max_fit_points: int | None = None,
        n_trees: int = 32,
        onehot: bool = True,
        background_refit: bool | None = None,
    ) -> None:
        super().__init__(seed)
        _choice("surrogate", surrogate, SURROGATES, Surrogate)
        _choice("acquisition", acquisition, acq.ACQUISITIONS)
        _choice("liar", liar, LIARS)
        _choice("scaling", scaling, ("auto", *SCALINGS))
        _choice("failed", failed, IMPUTATIONS)
        _choice("incumbent", incumbent, INCUMBENTS)
        for label, value, low in (
            ("n_initial", n_initial, 0),
            ("n_candidates", n_candidates, 16),
            ("gp_max_points", gp_max_points, 0),
            ("max_fit_points", max_fit_points, 2),
            ("n_trees", n_trees, 2),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < low
            ):
                raise ValueError(f"{label} must be an integer >= {low}, got {label}={value!r}")
        if not 0 <= refit_fraction <= 10:
            raise ValueError(f"refit_fraction must be in [0, 10], got {refit_fraction!r}")
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be positive or None, got clip={clip!r}")
        self.surrogate = surrogate
        self.acquisition = acquisition
        self.liar = liar
        self.n_initial = n_initial
        self.kappa = acq.KappaSchedule(kappa, kappa_schedule)
        self.xi = float(xi)
        self.epistemic_only = bool(epistemic_only)
        self.scaling = scaling
        self.failed = failed
        self.clip = clip
        self.objective_bounds = list(objective_bounds) if objective_bounds is not None else None
        self.incumbent_rule = incumbent
        self.n_candidates = n_candidates
        self.refit_fraction = float(refit_fraction)
        self.gp_max_points = gp_max_points
        self.max_fit_points = max_fit_points
        self.n_trees = n_trees
        self.onehot = bool(onehot)
        if background_refit is not None and not isinstance(background_refit, bool):
            raise ValueError(
                f"background_refit must be True, False or None, got {background_refit!r}"
            )
        self.background_refit = background_refit

    # -- state -------------------------------------------------------------------
    def _setup(self) -> None:
        space = self.space
        if space is None:  # pragma: no cover - setup() binds it first
            raise RuntimeError("BO._setup() without a space")
        k = len(self.directions)
        if self.objective_bounds is not None and len(self.objective_bounds) != k:
            raise ValueError(
                f"objective_bounds needs one entry per objective ({k}), "
                f"got {len(self.objective_bounds)}"
            )
        self.codec = Codec(space, onehot=self.onehot)
        varying = sum(kind != "constant" for kind in space.kinds)
        self.design_size = (
            initial_design_size(varying) if self.n_initial is None else self.n_initial
        )
        self._design = Design(
            space,
            self.codec,
            self._derived_seed(Stream.BO_DESIGN),
            self.design_size,
            self.derive_rng,
        )
        self.data = Observations(
            k, self.directions, self.objective_bounds, "quantile", self.clip, self.failed
        )
        self._seen: set[Hashable] = set()
        self._keys: set[bytes] = set()
        self._models = ModelCache(
            self.surrogate,
            self.scaling,
            self.refit_fraction,
            self.gp_max_points,
            self.max_fit_points,
            self.n_trees,
            self.derive_rng,
        )
        self._models.background = bool(self.background_refit)
        self._models.before_fit = self.wait_prepared
        self.settings_ = CandidateSettings.for_width(self.codec.width, self.n_candidates)
        self._quasi: np.ndarray | None = None
        self._anchor_cache: tuple[Any, Rows] | None = None

    def prepare(self) -> None:
        """Import what the models need while the search starts its workers.

        scikit-learn's trees first (about 0.8 s; the switch to trees after
        ``gp_max_points`` observations needs them), then SciPy's linear algebra,
        optimizers and special functions for the GP (about 0.5 s): the first
        model waits for these (:meth:`wait_prepared`). An import holds the
        interpreter for most of its time, so the asking thread gets little done
        meanwhile; done now, while the first proposals come from the initial
        design (NumPy only, cheap) and with several workers the first fit runs
        in the background, the imports stall no worker.
        """
        if self.surrogate in ("auto", "et", "rf") and have_sklearn():
            import sklearn.tree  # noqa: F401
        import scipy.linalg  # noqa: F401
        import scipy.optimize  # noqa: F401
        import scipy.special  # noqa: F401
        import threadpoolctl  # noqa: F401

        import hyperhive.optimizers.bo.gp  # noqa: F401

    def set_concurrency(self, workers: int) -> None:
        """With several trials at once, refit in a background thread (unless told not to)."""
        super().set_concurrency(workers)
        if self.background_refit is None and self.space is not None:
            self._models.background = workers > 1

    def _derived_seed(self, *key: int) -> int:
        return int(self.derive_rng(*key).integers(2**63 - 1))

    def _tell(self, trials: list[Trial]) -> None:
        self._add(trials, prior=False)

    def warm_start(self, trials: Sequence[Trial]) -> None:
        """Learn from the trials of an earlier search as extra history.

        They feed the model (before every told trial) and shorten the initial
        design, but do not count as asked or told.
        """
        if self.space is None:
            raise RuntimeError("BO.warm_start() called before setup(space, ...)")
        useful = [t for t in trials if t.status.finished and t.status.counted]
        self._add(useful, prior=True)

    def _add(self, trials: Sequence[Trial], prior: bool) -> None:
        if not trials:
            return
        configs = [dict(t.config) for t in trials]
        self._seen.update(config_key(c) for c in configs)
        rows = self.codec.exact(configs)
        self._keys.update(self.codec.keys(rows))
        self.data.add(
            self.codec.features(rows),
            self.losses(trials),
            [t.constraints for t in trials],
            configs,
            prior=prior,
        )

    # -- asking ------------------------------------------------------------------
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        start = self.position(pending)
        n_warm = self._n_warm()
        end_design = n_warm + max(0, self.design_size - self.data.n_prior)
        taken = keys_of(t.config for t in pending)
        w = max(0, min(start + n, n_warm) - start)
        out = []
        if w:
            excluded = self._keys | set(self.codec.config_keys([t.config for t in pending]))
            out = self._design.around(start, w, self._warm_bases(), excluded, self._seen, taken)
        d = max(0, min(start + n, end_design) - (start + w))
        out += self._design.sequence(start + w - n_warm, d, self._seen, taken)
        rest = n - w - d
        if rest and not self._model_ready():
            out += self._design.sequence(start + w + d - n_warm, rest, self._seen, taken)
        elif rest and self._models.background and not self._models.has_model():
            # several workers and no model yet: quasi-random points while it is fitted
            if self.prepared:
                self._models.start_first_fit(self.data)
            out += self._design.sequence(start + w + d - n_warm, rest, self._seen, taken)
        elif rest:
            self.wait_prepared()
            with one_thread():
                out += self._propose(rest, pending, out, start + w + d)
        return out

    def _n_warm(self) -> int:
        """Proposals spent around the best warm-start trials before anything else."""
        observed = int(np.isfinite(self.data.loss[: self.data.n_prior]).all(axis=1).sum())
        return min(max(1, self.design_size // 2), observed)

    def _warm_bases(self) -> list[Mapping[str, Any]]:
        """Observed warm-start configurations, best first (feasible first; rank sums)."""
        p = self.data.n_prior
        loss = self.data.loss[:p]
        ok = np.asarray(np.isfinite(loss).all(axis=1), dtype=bool)
        ranks = np.argsort(np.argsort(np.where(ok[:, None], loss, np.inf), axis=0), axis=0)
        cons = self.data.constraint_values(p)
        infeasible = (np.nan_to_num(cons, nan=0.0) > 0).any(axis=1)
        order = np.lexsort((ranks.sum(axis=1), infeasible, ~ok))[: max(int(ok.sum()), 1)]
        return [dict(self.data.configs[int(i)]) for i in order]

    def _model_ready(self) -> bool:
        return self.codec.width > 0 and self.data.n_observed >= 2

    # -- the model ---------------------------------------------------------------
    def model(self) -> tuple[Surrogate, Targets]:
        """The surrogate conditioned on every observation, and its targets.

        It is refitted (structure, hyperparameters) only at the sizes of a
        fixed schedule (see :class:`~hyperhive.optimizers.bo.model.ModelCache`),
        so it is a function of the data alone.
        """
        self.wait_prepared()
        return self._models.get(self.data)

    # -- proposals ---------------------------------------------------------------
    def _propose(
        self, q: int, pending: list[Trial], earlier: list[dict[str, Any]], pos: int
    ) -> list[dict[str, Any]]:
        space = self.space
        if space is None:  # pragma: no cover
            raise RuntimeError("BO used before setup()")
        model, data = self.model()
        k = data.n_objectives
        others = [c for c in (*[t.config for t in pending], *earlier) if space.is_valid(c)]
        excluded = self._keys | set(self.codec.config_keys(others))
        lying = self.liar in ("min", "mean", "max", "believer")
        if others and lying:
            model = self._fantasize(model, data, self._features(others))
        if self._quasi is None:
            self._quasi = self._design.unit(0, 1024) if space.names else None
        out: list[dict[str, Any]] = []
        for j in range(q):
            t = pos + j - self.design_size
            kappa = self.kappa(max(t, 0))
            if self.liar == "qucb" and (others or out):
                kappa = float(self.rng.exponential(kappa))
            weights = random_weights(k, self.rng) if k > 1 else np.ones(1)
            anchors = self._anchors(data, weights)
            score = make_scorer(
                model,
                data,
                acquisition=self.acquisition,
                weights=weights,
                kappa=kappa,
                xi=self.xi,
                epistemic_only=self.epistemic_only,
                draw_seed=int(self.rng.integers(2**63 - 1)),
                posterior_incumbent=self.incumbent_rule == "mean",
            )
            row = maximize(
                self.codec,
                score,
                self.rng,
                anchors=anchors,
                excluded=excluded,
                settings=self.settings_,
                quasi=self._quasi,
            )
            config = self.codec.to_configs(row)[0] if row is not None else None
            if config is None or not space.is_valid(config):
                # every candidate taken (a nearly exhausted space): a fresh random one
                taken = keys_of(others) | keys_of(out)
                config = sample_unique(space, 1, self.rng, self._seen, taken)[0]
            out.append(config)
            excluded.update(self.codec.config_keys([config]))
            if lying and j < q - 1:
                model = self._fantasize(model, data, self._features([config]))
        return out

    def _features(self, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        return self.codec.features(self.codec.exact(configs))

    def _fantasize(self, model: Surrogate, data: Targets, x: np.ndarray) -> Surrogate:
        """``model`` told that the points ``x`` have the liar's values."""
        if self.liar == "believer":
            return model.fantasize(x, model.predict(x).mean)
        return model.fantasize(x, lie_values(data, str(self.liar), len(x)))

    def _anchors(self, data: Targets, weights: np.ndarray) -> Rows | None:
        """The best observed configurations, as rows for the local search (cached)."""
        if not data.observed.any():
            return None
        best = best_rows(data, weights, _N_ANCHORS)
        key = (len(self.data), tuple(int(i) for i in best))
        if self._anchor_cache is None or self._anchor_cache[0] != key:
            configs = [self.data.configs[int(data.rows[i])] for i in best]
            rows = self.codec.from_configs(configs, self.derive_rng(Stream.BO_REPAIR, 1))
            self._anchor_cache = (key, rows)
        return self._anchor_cache[1]

    # -- reporting ---------------------------------------------------------------
    def incumbent(self) -> Trial | None:
        """The best told trial: by observed value, or (``incumbent="mean"``) by posterior mean.

        Only feasible trials count when any is feasible. None before any
        success, and for several objectives.
        """
        if len(self.directions) != 1 or not self.history:
            return None
        done = [t for t in self.history if t.status == TrialStatus.DONE and t.values is not None]
        if not done:
            return None
        feasible = [t for t in done if t.feasible] or done
        if self.incumbent_rule == "mean" and self._model_ready():
            self.wait_prepared()
            with one_thread():
                model, _ = self.model()
                mean = model.predict(self._features([t.config for t in feasible])).mean[:, 0]
            return feasible[int(np.argmin(mean))]
        losses = self.losses(feasible)[:, 0]
        return feasible[int(np.nanargmin(losses))]

    def settings(self) -> dict[str, Any]:
        """JSON description of the optimizer's options."""
        surrogate = (
            self.surrogate if isinstance(self.surrogate, str) else type(self.surrogate).__name__
        )
        return {
            **super().settings(),
            "surrogate": surrogate,
            "acquisition": self.acquisition,
            "liar": self.liar,
            "n_initial": self.n_initial,
            "kappa": self.kappa.kappa,
            "kappa_schedule": self.kappa.schedule,
            "xi": self.xi,
            "epistemic_only": self.epistemic_only,
            "scaling": self.scaling,
            "failed": self.failed,
            "clip": self.clip,
            "objective_bounds": self.objective_bounds,
            "incumbent": self.incumbent_rule,
            "n_candidates": self.n_candidates,
            "refit_fraction": self.refit_fraction,
            "gp_max_points": self.gp_max_points,
            "max_fit_points": self.max_fit_points,
            "n_trees": self.n_trees,
            "onehot": self.onehot,
            "background_refit": self.background_refit,
        }


def _choice(label: str, value: Any, allowed: Sequence[Any], cls: type | None = None) -> None:
    if cls is not None and isinstance(value, cls):
        return
    if value not in allowed:
        raise ValueError(f"{label} must be one of {list(allowed)}, got {label}={value!r}")
