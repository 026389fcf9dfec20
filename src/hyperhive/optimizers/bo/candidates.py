"""Acquisition optimization over mixed spaces: candidates, local search, duplicate filtering.

One proposal scores, in two vectorized rounds,

1. random draws from the space's prior, a quasi-random (randomly shifted
   scrambled Halton) set, and mutations of *anchors* (the best configurations
   observed so far) with step sizes from fine to coarse;
2. finer mutations of the best candidates of round 1.

Every candidate is built by :class:`~hyperhive.optimizers.bo.codec.Codec`, so
it follows the conditions; candidates in a forbidden combination score
``-inf``. The best-scoring candidate whose configuration is not excluded
(already evaluated, pending, or earlier in the batch) wins; None when every
candidate is excluded (a nearly exhausted finite space).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hyperhive.optimizers.bo.codec import Codec, Rows

__all__ = ["CandidateSettings", "maximize"]

Score = Callable[[np.ndarray], np.ndarray]

#: Step sizes (in unit space) of the mutations of round 1 and round 2.
COARSE_SIGMAS = np.array([0.02, 0.05, 0.1, 0.2, 0.4])
FINE_SIGMAS = np.array([0.005, 0.01, 0.02, 0.05])


@dataclass
class CandidateSettings:
    """How many candidates each proposal scores.

    Attributes:
        n_random: Prior draws.
        n_quasi: Quasi-random points.
        n_local: Mutations of the anchors (round 1).
        n_refine: Mutations of the best candidates (round 2).
        n_top: Best candidates of round 1 refined in round 2.
    """

    n_random: int = 256
    n_quasi: int = 256
    n_local: int = 256
    n_refine: int = 256
    n_top: int = 8

    @classmethod
    def for_width(cls, width: int, total: int | None = None) -> CandidateSettings:
        """Settings for ``width`` model features, about ``total`` candidates in all."""
        if total is None:
            total = int(np.clip(64 * width, 512, 2048))
        q = max(total // 4, 8)
        return cls(n_random=q, n_quasi=q, n_local=q, n_refine=q, n_top=8)


def _around(codec: Codec, base: Rows, n: int, sigmas: np.ndarray, rng: np.random.Generator) -> Rows:
    """``n`` mutations of the rows of ``base`` (cycled), steps drawn from ``sigmas``."""
    idx = np.arange(n) % len(base)
    return codec.mutate(base.take(idx), rng, rng.choice(sigmas, n))


def maximize(
    codec: Codec,
    score: Score,
    rng: np.random.Generator,
    *,
    anchors: Rows | None,
    excluded: set[bytes],
    settings: CandidateSettings,
    quasi: np.ndarray | None = None,
) -> Rows | None:
    """The allowed, non-excluded candidate with the highest score, as a one-row batch.

    Args:
        codec: Builds and encodes candidates.
        score: Utility of an ``(m, width)`` feature array (higher is better).
        rng: Source of randomness.
        anchors: Configurations to search around (the incumbents), or None.
        excluded: Keys (:meth:`Codec.keys`) of configurations not to propose.
        settings: Candidate counts.
        quasi: A quasi-random point set in ``[0, 1]^d`` (one column per
            parameter), shifted at random here; None to skip.
    """
    parts = [codec.sample(settings.n_random, rng)]
    if quasi is not None and settings.n_quasi > 0 and quasi.shape[1] > 0:
        pick = rng.choice(len(quasi), min(settings.n_quasi, len(quasi)), replace=False)
        shifted = (quasi[pick] + rng.random(quasi.shape[1])) % 1.0
        parts.append(codec.from_unit(shifted))
    if anchors is not None and len(anchors) and settings.n_local > 0:
        parts.append(_around(codec, anchors, settings.n_local, COARSE_SIGMAS, rng))
    first = Rows.concat(parts)
    s1 = _scores(codec, score, first)
    top = np.argsort(-s1, kind="stable")[: settings.n_top]
    top = top[np.isfinite(s1[top])]
    if len(top) and settings.n_refine > 0:
        second = _around(codec, first.take(top), settings.n_refine, FINE_SIGMAS, rng)
        s2 = _scores(codec, score, second)
        pool, s = Rows.concat([first, second]), np.concatenate([s1, s2])
    else:
        pool, s = first, s1
    order = np.argsort(-s, kind="stable")
    order = order[np.isfinite(s[order])]
    # Keys are computed lazily, best candidates first, in chunks.
    for lo in range(0, len(order), 64):
        chunk = order[lo : lo + 64]
        for i, key in zip(chunk, codec.keys(pool.take(chunk)), strict=True):
            if key not in excluded:
                return pool.take([int(i)])
    return None


def _scores(codec: Codec, score: Score, rows: Rows) -> np.ndarray:
    s = np.asarray(score(codec.features(rows)), dtype=float)
    s = np.where(np.isnan(s), -np.inf, s)
    allowed = codec.allowed(rows)
    return np.where(allowed, s, -np.inf)
