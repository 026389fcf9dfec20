"""Pareto fronts and the hypervolume indicator (all objectives minimized)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["hypervolume", "nondominated"]


def nondominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``points`` no other row dominates (duplicates kept once)."""
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    keep = np.ones(n, dtype=bool)
    order = np.lexsort(pts.T[::-1])  # sorted by first column, ties by the next ones
    front: list[int] = []
    for i in order:
        p = pts[i]
        if front:
            f = pts[front]
            if np.any(np.all(f <= p, axis=1)):  # dominated by, or equal to, a kept point
                keep[i] = False
                continue
        front.append(int(i))
    return keep


def _hv2(pts: np.ndarray, ref: np.ndarray) -> float:
    pts = pts[np.argsort(pts[:, 0], kind="stable")]
    total, best_y = 0.0, ref[1]
    for x, y in pts:
        if y < best_y:
            total += (ref[0] - x) * (best_y - y)
            best_y = y
    return total


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of non-dominated points all strictly better than ``ref`` (slicing)."""
    if len(pts) == 0:
        return 0.0
    k = pts.shape[1]
    if k == 1:
        return float(ref[0] - pts[:, 0].min())
    if k == 2:
        return _hv2(pts, ref)
    pts = pts[np.argsort(pts[:, -1], kind="stable")]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, -1] if i + 1 < len(pts) else ref[-1]
        depth = upper - pts[i, -1]
        if depth <= 0:
            continue
        layer = pts[: i + 1, :-1]
        layer = layer[nondominated(layer)]
        total += depth * _hv(layer, ref[:-1])
    return total


def hypervolume(
    points: np.ndarray | Sequence[Sequence[float]], reference: Sequence[float]
) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (minimization).

    Points not strictly better than the reference in every objective add
    nothing. Exact: a sweep in two dimensions, slicing along the last objective
    above (fine for the fronts of a search, up to a few hundred points in 3-4
    objectives).

    Args:
        points: An ``(n, k)`` array of losses.
        reference: ``k`` values, worse than the points of interest.

    Raises:
        ValueError: If the shapes disagree or a value is not finite.
    """
    ref = np.asarray(reference, dtype=float).reshape(-1)
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        return 0.0
    pts = pts.reshape(len(pts), -1)
    if pts.shape[1] != len(ref):
        raise ValueError(
            f"reference has {len(ref)} values but the points have {pts.shape[1]} objectives"
        )
    if not (np.isfinite(ref).all() and np.isfinite(pts).all()):
        raise ValueError("hypervolume needs finite points and a finite reference")
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    return float(_hv(pts[nondominated(pts)], ref))
