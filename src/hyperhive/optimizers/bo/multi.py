"""Several objectives and black-box constraints.

Several objectives are reduced to one per proposal by an augmented Chebyshev
scalarization with a random weight vector (uniform on the simplex), drawn anew
for every proposal, so successive proposals aim at different parts of the
Pareto front. The scalarization is applied to posterior draws of every
objective, which gives the mean and spread of the scalarized loss at each
candidate without a model of it (no refit per weight vector).

Constraints (feasible when every value is <= 0) enter as the probability of
feasibility under the model, the product over constraints of
``P(c_j <= 0)``; bounds on objectives (a value each must reach) are turned
into such constraints by :func:`bound_constraints`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "bound_constraints",
    "chebyshev",
    "probability_feasible",
    "random_weights",
]

#: Weight of the linear term of the augmented Chebyshev scalarization.
RHO = 0.05


def random_weights(k: int, rng: np.random.Generator) -> np.ndarray:
    """A weight vector drawn uniformly from the ``k``-simplex."""
    return rng.dirichlet(np.ones(k))


def chebyshev(
    values: np.ndarray, weights: np.ndarray, ideal: np.ndarray, rho: float = RHO
) -> np.ndarray:
    """Augmented Chebyshev scalarization of losses over the last axis.

    ``max_i w_i (y_i - z_i) + rho * sum_i w_i (y_i - z_i)`` with ``z`` the ideal
    point; smaller is better, and its minimizers are Pareto optimal.
    """
    gap = weights * (values - ideal)
    return gap.max(axis=-1) + rho * gap.sum(axis=-1)


def probability_feasible(mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``prod_j P(c_j <= 0)`` for independent ``c_j ~ N(mean_j, std_j^2)`` (last axis)."""
    from scipy.special import ndtr

    return np.prod(ndtr(-mean / np.maximum(std, 1e-12)), axis=-1)


def bound_constraints(
    losses: np.ndarray, bounds: Sequence[float | None], directions: Sequence[str]
) -> np.ndarray:
    """Constraint values (<= 0 when met) for bounds on the objectives.

    Args:
        losses: ``(n, k)`` objective values as losses (maximized ones negated),
            NaN where a trial has none.
        bounds: Per objective, the value it must reach in its own direction
            (at most the bound when minimized, at least when maximized), or
            None for no bound.
        directions: ``"minimize"`` or ``"maximize"`` per objective.

    Returns:
        An ``(n, b)`` array, one column per bound given.
    """
    cols = []
    for j, (bound, direction) in enumerate(zip(bounds, directions, strict=True)):
        if bound is None:
            continue
        sign = 1.0 if direction == "minimize" else -1.0
        cols.append(losses[:, j] - sign * float(bound))
    if not cols:
        return np.zeros((len(losses), 0))
    return np.stack(cols, axis=1)
