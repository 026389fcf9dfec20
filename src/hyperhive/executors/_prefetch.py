"""The rule by which an executor keeps trials queued beyond its workers (``prefetch``).

Between two trials a worker waits for the driver: the result travels back, the search
loop records it and asks the optimizer, the next configuration travels out. With short
trials that wait is a visible share of the worker's time; a trial queued next to the
worker starts at once instead. With long trials the wait does not matter, and a queued
trial would only be proposed earlier than needed (before the results ahead of it).
"""

from __future__ import annotations

import collections
import threading

__all__ = ["THRESHOLD", "WaitStats", "check_prefetch"]

#: Queue trials when the median wait between two trials exceeds this share of the
#: median trial duration.
THRESHOLD = 0.01

#: Samples kept of each kind.
_WINDOW = 64


def check_prefetch(prefetch: int | None) -> int | None:
    """``prefetch`` validated: None (decide from measurements) or an integer >= 0.

    Raises:
        ValueError: naming the value otherwise.
    """
    if prefetch is not None and (
        isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0
    ):
        raise ValueError(f"prefetch must be None or an integer >= 0, got {prefetch!r}")
    return prefetch


class WaitStats:
    """The last waits of workers between two trials and the last trial durations.

    Thread-safe: the executor's I/O threads record, the search loop reads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.waits: collections.deque[float] = collections.deque(maxlen=_WINDOW)
        self.durations: collections.deque[float] = collections.deque(maxlen=_WINDOW)

    def wait(self, seconds: float) -> None:
        """A worker waited ``seconds`` for its next trial."""
        with self._lock:
            self.waits.append(seconds)

    def duration(self, seconds: float) -> None:
        """A trial ran ``seconds``."""
        with self._lock:
            self.durations.append(max(0.0, seconds))

    def share(self) -> float | None:
        """Median wait over median duration; None before 4 of each were seen."""
        with self._lock:
            if len(self.waits) < 4 or len(self.durations) < 4:
                return None
            wait = sorted(self.waits)[len(self.waits) // 2]
            duration = sorted(self.durations)[len(self.durations) // 2]
        return wait / duration if duration > 0 else float("inf")

    def queue_slots(self, prefetch: int | None, workers: int) -> int:
        """``prefetch`` when it is an integer; else ``workers`` (one queued trial per
        worker) while the wait share is above :data:`THRESHOLD`, 0 otherwise."""
        if prefetch is not None:
            return prefetch
        share = self.share()
        return workers if share is not None and share > THRESHOLD else 0
