"""The observations a BO model learns from: features, losses, constraints and their targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperhive.optimizers.bo.multi import bound_constraints
from hyperhive.optimizers.bo.transform import scale_constraints, scale_losses

__all__ = ["Observations", "Targets"]


@dataclass
class Targets:
    """Model inputs and standardized targets of the first rows of the observations.

    Attributes:
        x: ``(n, width)`` features of the rows kept.
        z: ``(n, k + c)`` targets: ``k`` objective columns then ``c`` constraint columns.
        rows: Index of each kept row in the observations.
        observed: Rows with every objective value (not failed).
        feasible: Observed rows meeting every constraint and objective bound.
        n_objectives: ``k``.
    """

    x: np.ndarray
    z: np.ndarray
    rows: np.ndarray
    observed: np.ndarray
    feasible: np.ndarray
    n_objectives: int = 1

    @property
    def n_constraints(self) -> int:
        """Number of constraint columns."""
        return self.z.shape[1] - self.n_objectives


class Observations:
    """Rows of finished trials (warm-start trials first), appended as trials are told.

    Args:
        k: Number of objectives.
        directions: Their directions.
        bounds: Objective bounds (see :func:`~hyperhive.optimizers.bo.multi.bound_constraints`).
        scaling: Objective scaling (see :mod:`~hyperhive.optimizers.bo.transform`).
        clip: Outlier clipping of the bad tail, in interquartile ranges.
        impute: Treatment of failed trials.
    """

    def __init__(
        self,
        k: int,
        directions: Sequence[str],
        bounds: Sequence[float | None] | None,
        scaling: str,
        clip: float | None,
        impute: str,
    ) -> None:
        self.k = k
        self.directions = list(directions)
        self.bounds = list(bounds) if bounds is not None else [None] * k
        self.scaling = scaling
        self.clip = clip
        self.impute = impute
        self.x = np.zeros((0, 0))
        self.loss = np.zeros((0, k))
        self.cons = np.zeros((0, 0))
        self.configs: list[Mapping[str, Any]] = []
        self.n_prior = 0
        self._cache: dict[tuple[int, str], Targets] = {}

    def __len__(self) -> int:
        return len(self.loss)

    def add(
        self,
        x: np.ndarray,
        losses: np.ndarray,
        constraints: Sequence[tuple[float, ...] | None],
        configs: Sequence[Mapping[str, Any]],
        prior: bool = False,
    ) -> None:
        """Append rows (or put them before every told row when ``prior``)."""
        losses = np.asarray(losses, dtype=float).reshape(-1, self.k)
        if len(self.x) == 0:
            self.x = np.zeros((0, x.shape[1]))
        width = max([self.cons.shape[1]] + [len(c) for c in constraints if c is not None])
        cons = np.full((len(losses), width), np.nan)
        for i, c in enumerate(constraints):
            if c is not None and len(c):
                cons[i, : len(c)] = np.asarray(c, dtype=float)
        if width > self.cons.shape[1]:
            old = self.cons
            self.cons = np.full((len(old), width), np.nan)
            self.cons[:, : old.shape[1]] = old
        p = self.n_prior if prior else len(self.loss)
        self.x = np.concatenate([self.x[:p], x, self.x[p:]])
        self.loss = np.concatenate([self.loss[:p], losses, self.loss[p:]])
        self.cons = np.concatenate([self.cons[:p], cons, self.cons[p:]])
        self.configs[p:p] = list(configs)
        if prior:
            self.n_prior += len(losses)
        self._cache.clear()

    @property
    def n_observed(self) -> int:
        """Rows with every objective value."""
        return int(np.isfinite(self.loss).all(axis=1).sum())

    def constraint_values(self, n: int) -> np.ndarray:
        """Raw constraint values of the first ``n`` rows (user constraints, then bounds)."""
        user = self.cons[:n]
        if user.shape[1] and np.isnan(user).all(axis=0).any():  # columns not seen yet in n rows
            user = user[:, ~np.isnan(user).all(axis=0)]
        bound = bound_constraints(self.loss[:n], self.bounds, self.directions)
        return np.concatenate([user, bound], axis=1)

    def targets(self, n: int | None = None, scaling: str | None = None) -> Targets:
        """Features and standardized targets of the first ``n`` rows (all by default).

        Args:
            n: How many rows.
            scaling: Overrides the objective scaling given to the constructor.
        """
        n = len(self) if n is None else min(n, len(self))
        scaling = scaling or self.scaling
        hit = self._cache.get((n, scaling))
        if hit is not None:
            return hit
        loss = self.loss[:n]
        observed = np.asarray(np.isfinite(loss).all(axis=1), dtype=bool)
        cons = self.constraint_values(n)
        with np.errstate(invalid="ignore"):
            met = np.where(np.isnan(cons), True, cons <= 0).all(axis=1)
        feasible = observed & met
        keep = np.ones(n, dtype=bool) if self.impute != "ignore" else observed
        cols = [scale_losses(loss[keep, j], scaling, self.clip, self.impute) for j in range(self.k)]
        z = np.stack(cols, axis=1) if cols else np.zeros((int(keep.sum()), 0))
        if cons.shape[1]:
            z = np.concatenate([z, scale_constraints(cons[keep])], axis=1)
        out = Targets(
            x=self.x[:n][keep],
            z=z,
            rows=np.flatnonzero(keep),
            observed=observed[keep],
            feasible=feasible[keep],
            n_objectives=self.k,
        )
        if len(self._cache) > 4:
            self._cache.clear()
        self._cache[(n, scaling)] = out
        return out
