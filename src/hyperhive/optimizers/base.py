"""The optimizer contract: ``ask(n)`` and ``tell(trials)``."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hyperhive.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from hyperhive.space import Space


class Optimizer(abc.ABC):
    """An ask/tell search algorithm.

    The search binds it once with :meth:`setup`, then calls :meth:`ask` for new
    configurations (told which trials are still running) and :meth:`tell` with
    trials as they finish, in the order they finished. Its state can always be
    rebuilt by replaying finished trials, so a resumed search needs no pickle.
    Given a seed and the same sequence of tells, it asks the same configurations.

    Subclasses implement :meth:`_ask` and, when they learn, :meth:`_tell`.
    Objective values reach :meth:`_tell` through :attr:`history`; :meth:`losses`
    turns them into values to minimize whatever the directions.
    """

    name: ClassVar[str] = ""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.space: Space | None = None
        self.directions: list[str] = ["minimize"]
        self.rng = np.random.default_rng(seed)
        self.history: list[Trial] = []

    # -- binding -----------------------------------------------------------------
    def setup(self, space: Space, directions: Sequence[str], seed: int | None = None) -> None:
        """Bind the optimizer to a space, objective directions and a seed."""
        self.space = space
        self.directions = list(directions)
        if seed is not None or self.seed is None:
            self.seed = seed if seed is not None else self.seed
        self.rng = np.random.default_rng(self.seed)
        self.history = []
        self._setup()

    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Hook run after :meth:`setup`."""

    # -- the contract ------------------------------------------------------------
    def ask(self, n: int = 1, pending: Sequence[Trial] = ()) -> list[dict[str, Any]]:
        """Propose ``n`` new configurations, knowing that ``pending`` trials are running."""
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__}.ask() called before setup(space, ...)")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got n={n!r}")
        if n == 0:
            return []
        configs = self._ask(n, list(pending))
        return [dict(c) for c in configs]

    def tell(self, trials: Sequence[Trial]) -> None:
        """Learn from finished trials (any finished status; lost and cancelled are ignored)."""
        useful = [
            t
            for t in trials
            if t.status.finished and t.status not in (TrialStatus.LOST, TrialStatus.CANCELLED)
        ]
        if not useful:
            return
        self.history.extend(useful)
        self._tell(useful)

    @abc.abstractmethod
    def _ask(self, n: int, pending: list[Trial]) -> list[dict[str, Any]]:
        """Return ``n`` valid configurations."""

    def _tell(self, trials: list[Trial]) -> None:  # noqa: B027 - optional hook
        """Hook called with the newly finished trials (already in :attr:`history`)."""

    # -- helpers -----------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """JSON description of the optimizer (stored in the run directory)."""
        return {"name": self.name or type(self).__name__, "seed": self.seed}

    def losses(self, trials: Sequence[Trial]) -> np.ndarray:
        """Objective values as an ``(n, k)`` array to minimize; NaN where a trial has none."""
        k = len(self.directions)
        out = np.full((len(trials), k), np.nan)
        sign = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
        for i, t in enumerate(trials):
            vals = t.values
            if t.status == TrialStatus.DONE and vals is not None and len(vals) == k:
                out[i] = np.asarray(vals, dtype=float) * sign
        return out
