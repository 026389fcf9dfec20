"""Regularized (aging) evolution: tournaments in a population of the latest results."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np

from hyperhive.optimizers._sampling import config_key, keys_of, sample_unique
from hyperhive.optimizers.base import Optimizer
from hyperhive.trial import Trial

#: Mutations tried per child before giving up on avoiding a repeat.
MUTATION_TRIES = 8


def nondominated_rank(losses: np.ndarray) -> np.ndarray:
    """Pareto rank of each row of an ``(n, k)`` array of losses (0 = non-dominated).

    Rows holding NaN (failed trials) rank after every other row.

    Args:
        losses: Values to minimize, one row per trial.

    Returns:
        An ``(n,)`` integer array: 0 for the first front, 1 for the next, ...
    """
    losses = np.asarray(losses, dtype=float)
    n = len(losses)
    rank = np.full(n, -1, dtype=np.int64)
    bad = np.isnan(losses).any(axis=1)
    good = np.flatnonzero(~bad)
    if good.size:
        x = losses[good]
        le = np.asarray((x[:, None, :] <= x[None, :, :]).all(axis=2), dtype=bool)
        lt = (x[:, None, :] < x[None, :, :]).any(axis=2)
        dominates = le & lt  # dominates[i, j]: row i dominates row j
        left = np.ones(good.size, dtype=bool)
        level = 0
        while left.any():
            beaten = (dominates[left][:, left]).any(axis=0)
            idx = np.flatnonzero(left)[~beaten]
            rank[good[idx]] = level
            left[idx] = False
            level += 1
    rank[bad] = int(rank.max(initial=-1)) + 1
    return rank


def scalar_scores(losses: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One score per row to minimize: the loss itself, or a Pareto rank for several.

    With one objective, NaN (a failed trial) becomes ``+inf``. With several,
    the score is the non-dominated rank plus a random Chebyshev scalarization of
    the losses (normalized to the rows' range, weights drawn from ``rng``) scaled
    into ``[0, 1)``, which orders the members of one front.
    """
    losses = np.asarray(losses, dtype=float)
    if losses.shape[1] == 1:
        out = losses[:, 0].copy()
        out[np.isnan(out)] = np.inf
        return out
    rank = nondominated_rank(losses).astype(float)
    with np.errstate(invalid="ignore", over="ignore"):
        lo = np.nanmin(losses, axis=0) if np.isfinite(losses).any() else np.zeros(losses.shape[1])
        span = np.nanmax(losses, axis=0) - lo if np.isfinite(losses).any() else 1.0
        span = np.where(np.isfinite(span) & (span > 0), span, 1.0)
        norm = np.nan_to_num((losses - lo) / span, nan=1.0, posinf=1.0, neginf=0.0)
    weights = rng.dirichlet(np.ones(losses.shape[1]))
    cheb = np.clip((norm * weights).max(axis=1), 0.0, 0.999)
    return rank + cheb


class RegularizedEvolution(Optimizer):
    """Regularized (aging) evolution, after Real et al. (2019), for any space.

    The population is the ``population_size`` trials told last (the oldest
    leaves when a new one arrives, whatever its fitness: that is the aging).
    Until ``n_initial`` trials have finished, proposals are random (and avoid
    repeats). Afterwards each proposal is a child: a tournament of
    ``sample_size`` members drawn without replacement from the population is won
    by the lowest loss (failed trials lose to every success), and the child is
    the winner with ``mutation_k`` active parameters changed by
    :meth:`Space.mutate` (a categorical takes another choice, a number moves by
    a Gaussian step of ``sigma`` in unit space, ordinals go to a nearby value).
    Children that repeat a told, pending or sibling configuration are mutated
    again (up to :data:`MUTATION_TRIES` times, then with one more parameter
    changed, then a random configuration), so no evaluation is wasted.

    It is asynchronous: every ask runs fresh tournaments on the trials finished
    so far, so a free worker gets a child at once.

    Several objectives: the tournament ranks members by non-dominated front
    (Pareto rank within the population) and orders members of the same front by
    a random Chebyshev scalarization, drawn anew for each tournament, of the
    losses normalized to the population's range.

    The state is a function of :attr:`history` and draws come from :attr:`rng`,
    so the optimizer is replay-deterministic.

    Args:
        seed: Seed of the search; None for a fresh one.
        population_size: Trials kept in the population (``P``, default 30).
        sample_size: Tournament size (``S``, default 10; at most ``population_size``).
            Larger means greedier. The defaults were chosen on NAS-Bench-201 for
            budgets of 100 to 500 evaluations (``benchmarks/nas_bench201.py``);
            Real et al. use ``P = 100, S = 25`` for thousands of evaluations.
        n_initial: Trials that must finish before the first child; until then
            proposals are random (default ``population_size``).
        mutation_k: Parameters changed per mutation (default 1).
        sigma: Step of numeric mutations in unit space (default 0.2).

    Raises:
        ValueError: On a size that is not a positive integer, ``sample_size >
            population_size``, or a non-positive ``sigma``.
    """

    name: ClassVar[str] = "evolution"
    replay_deterministic = True

    def __init__(
        self,
        seed: int | None = None,
        population_size: int = 30,
        sample_size: int = 10,
        n_initial: int | None = None,
        mutation_k: int = 1,
        sigma: float = 0.2,
    ) -> None:
        super().__init__(seed)
        for label, v in (
            ("population_size", population_size),
            ("sample_size", sample_size),
            ("mutation_k", mutation_k),
        ):
            _check_positive_int(label, v)
        if n_initial is not None:
            _check_positive_int("n_initial", n_initial)
        if sample_size > population_size:
            raise ValueError(
                f"sample_size ({sample_size}) must not exceed population_size ({population_size})"
            )
        if not (isinstance(sigma, int | float) and not isinstance(sigma, bool) and sigma > 0):
            raise ValueError(f"sigma must be a positive number, got sigma={sigma!r}")
        self.population_size = int(population_size)
        self.sample_size = int(sample_size)
        self.n_initial = None if n_initial is None else int(n_initial)
        self.mutation_k = int(mutation_k)
        self.sigma = float(sigma)

    def _setup(self) -> None:
        self._seen: set[Hashable] = set()

    def _tell(self, trials: list[Trial]) -> None:
        self._seen.update(config_key(t.config) for t in trials)

    # -- population --------------------------------------------------------------
    @property
    def population(self) -> list[Trial]:
        """The current population: the last ``population_size`` trials told, oldest first."""
        return self.history[-self.population_size :]

    def tournament(self, rng: np.random.Generator) -> Trial:
        """Draw ``sample_size`` members of the population and return the winner.

        Raises:
            RuntimeError: If the population is empty.
        """
        pop = self.population
        if not pop:
            raise RuntimeError("tournament() on an empty population")
        size = min(self.sample_size, len(pop))
        idx = rng.choice(len(pop), size=size, replace=False)
        if len(self.directions) == 1:
            scores = scalar_scores(self.losses([pop[int(i)] for i in idx]), rng)
        else:  # Pareto ranks and normalization within the whole population
            scores = scalar_scores(self.losses(pop), rng)[idx]
        return pop[int(idx[int(np.argmin(scores))])]

    # -- asking ------------------------------------------------------------------
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        space = self.space
        if space is None:  # pragma: no cover - ask() checks it first
            raise RuntimeError("RegularizedEvolution used before setup()")
        taken = keys_of(t.config for t in pending)
        n_initial = self.population_size if self.n_initial is None else self.n_initial
        if len(self.history) < n_initial:
            return sample_unique(space, n, self.rng, self._seen, taken)
        return [self._child(taken) for _ in range(n)]

    def _child(self, taken: set[Hashable]) -> dict[str, Any]:
        """One mutated tournament winner that repeats nothing (``taken`` is updated)."""
        space = self.space
        if space is None:  # pragma: no cover
            raise RuntimeError("RegularizedEvolution used before setup()")
        rng = self.rng
        parent = self.tournament(rng).config
        for k in (self.mutation_k, self.mutation_k + 1):
            for _ in range(MUTATION_TRIES):
                child = space.mutate(parent, rng, k=k, sigma=self.sigma)
                key = config_key(child)
                if key not in self._seen and key not in taken:
                    taken.add(key)
                    return child
        return sample_unique(space, 1, rng, self._seen, taken)[0]

    def settings(self) -> dict[str, Any]:
        """JSON description: seed, population and tournament sizes, mutation settings."""
        return {
            **super().settings(),
            "population_size": self.population_size,
            "sample_size": self.sample_size,
            "n_initial": self.n_initial,
            "mutation_k": self.mutation_k,
            "sigma": self.sigma,
        }


def _check_positive_int(label: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{label} must be a positive integer, got {label}={value!r}")


__all__ = ["RegularizedEvolution", "nondominated_rank", "scalar_scores"]
