"""Concurrency of a finished search, from its trial records (for executor tests)."""

from __future__ import annotations

from collections.abc import Iterable

from hyperhive.trial import Trial

__all__ = ["max_in_flight"]


def max_in_flight(records: Iterable[Trial]) -> int:
    """The most trials submitted and not yet finished at one time."""
    records = list(records)
    edges = sorted(
        [(t.submitted, 1) for t in records if t.submitted is not None]
        + [(t.finished, -1) for t in records if t.finished is not None]
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak
