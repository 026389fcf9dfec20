"""Members' predictions on one data set, stacked, and the loss of any weighting of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hyperhive.ensemble import metrics

__all__ = ["MemberOutput", "Stack", "TASKS"]

TASKS = ("regression", "classification")


@dataclass(frozen=True)
class MemberOutput:
    """One member's prediction for ``n`` samples.

    Regression: ``mean`` ``(n, k)`` and ``variance`` ``(n, k)`` or None (a member that
    predicts no variance). Classification: ``probs`` ``(n, classes)``.
    """

    mean: np.ndarray | None = None
    variance: np.ndarray | None = None
    probs: np.ndarray | None = None

    @property
    def task(self) -> str:
        return "classification" if self.probs is not None else "regression"

    def finite(self) -> bool:
        """True when every number is finite (and variances are non-negative)."""
        parts = [a for a in (self.mean, self.variance, self.probs) if a is not None]
        ok = all(np.all(np.isfinite(a)) for a in parts)
        return ok and (self.variance is None or bool(np.all(self.variance >= 0)))


def stacked(outputs: Sequence[MemberOutput], part: str) -> np.ndarray:
    """``(members, n, ...)`` array of one part (``"mean"``, ``"variance"``, ``"probs"``);
    a missing variance counts as zero."""
    arrays = []
    for o in outputs:
        a = getattr(o, part)
        if a is None and part == "variance" and o.mean is not None:
            a = np.zeros_like(o.mean)
        if a is None:
            raise ValueError(f"a member output has no {part}")
        arrays.append(np.asarray(a, dtype=float))
    return np.stack(arrays)


class Stack:
    """The outputs of several members on the same samples, with their targets.

    Args:
        outputs: one :class:`MemberOutput` per member (all of one task and shape).
        y: the targets: ``(n,)``/``(n, k)`` values, or ``(n,)`` class labels.

    Raises:
        ValueError: no outputs, mixed tasks or shapes, or targets of another length.
    """

    def __init__(self, outputs: Sequence[MemberOutput], y: np.ndarray) -> None:
        if not outputs:
            raise ValueError("no member outputs to stack")
        tasks = {o.task for o in outputs}
        if len(tasks) > 1:
            raise ValueError("members mix regression and classification outputs")
        self.task = tasks.pop()
        self.m = len(outputs)
        if self.task == "classification":
            self.probs = stacked(outputs, "probs")
            self.y = np.asarray(y).astype(int).ravel()
            n = self.probs.shape[1]
        else:
            self.means = stacked(outputs, "mean")
            self.variances = stacked(outputs, "variance")
            n = self.means.shape[1]
            target = np.asarray(y, dtype=float)
            self.y = target.reshape(self.means.shape[1:]) if len(target) == n else target
        if len(self.y) != n:
            raise ValueError(f"{len(self.y)} targets for predictions of {n} samples")

    def member_losses(self) -> np.ndarray:
        """Each member's own loss (Gaussian NLL, or log loss for classification)."""
        return np.array([self.loss(np.eye(self.m)[i]) for i in range(self.m)])

    def loss(self, weights: np.ndarray) -> float:
        """The loss of the ensemble weighting the members by ``weights`` (sum 1)."""
        w = np.asarray(weights, dtype=float)
        if self.task == "classification":
            return metrics.log_loss(self.y, np.tensordot(w, self.probs, axes=1))
        mean = np.tensordot(w, self.means, axes=1)
        second = np.tensordot(w, self.means**2 + self.variances, axes=1)
        return metrics.gaussian_nll(self.y, mean, np.sqrt(np.maximum(second - mean**2, 0)))

    def losses_adding(self, counts: np.ndarray) -> np.ndarray:
        """The loss of the ensemble ``counts`` plus one more copy of each member, per member."""
        t = counts.sum() + 1.0
        if self.task == "classification":
            base = np.tensordot(counts, self.probs, axes=1)
            return np.array([metrics.log_loss(self.y, (base + p) / t) for p in self.probs])
        s1 = np.tensordot(counts, self.means, axes=1)
        s2 = np.tensordot(counts, self.means**2 + self.variances, axes=1)
        mean = (s1 + self.means) / t  # (m, n, k): one candidate ensemble per member
        var = np.maximum((s2 + self.means**2 + self.variances) / t - mean**2, 0)
        std = np.maximum(np.sqrt(var), metrics.MIN_STD)
        z = (self.y - mean) / std
        per = 0.5 * np.log(2 * np.pi) + np.log(std) + 0.5 * z**2
        return per.reshape(self.m, -1).mean(axis=1)
