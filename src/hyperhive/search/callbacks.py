"""Callbacks run by the search loop each time a trial ends."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from hyperhive.trial import Trial, TrialStatus


@dataclass
class SearchState:
    """A live view of the search handed to callbacks.

    Attributes:
        directions: objective directions.
        counted: trials counted toward ``max_evals`` so far.
        failures: failed and timed-out trials so far.
        elapsed: seconds since the search started.
        best: the best done trial so far (single objective), else None.
        stop_reason: set by :meth:`stop`.
    """

    directions: list[str]
    counted: int = 0
    failures: int = 0
    elapsed: float = 0.0
    best: Trial | None = None
    stop_reason: str | None = field(default=None)

    def stop(self, reason: str = "stopped by a callback") -> None:
        """Ask the search to end cleanly after this trial (running trials are cancelled)."""
        self.stop_reason = reason

    def tally(self, finished: Iterable[Trial]) -> None:
        """Count finished trials (counted, failures) and keep the best feasible one."""
        for t in finished:
            if t.counted:
                self.counted += 1
            if t.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT):
                self.failures += 1
            if len(self.directions) == 1 and t.status == TrialStatus.DONE and t.feasible:
                sign = 1.0 if self.directions[0] == "minimize" else -1.0
                if self.best is None or sign * t.values[0] < sign * self.best.values[0]:  # type: ignore[index]
                    self.best = t


class Callback(Protocol):
    """Anything callable as ``callback(trial, state)``; may call ``state.stop(reason)``."""

    def __call__(self, trial: Trial, state: SearchState) -> None: ...


CallbackLike = Callable[[Trial, SearchState], object]


class EarlyStopping:
    """End the search when the best value has not improved for ``patience`` counted trials.

    Args:
        patience: counted trials without improvement before the search ends.
        min_delta: an improvement smaller than this does not reset the count.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got patience={patience!r}")
        if not (isinstance(min_delta, int | float) and min_delta >= 0):
            raise ValueError(
                f"min_delta must be a non-negative number, got min_delta={min_delta!r}"
            )
        self.patience = patience
        self.min_delta = float(min_delta)
        self._best = math.inf
        self._since = 0

    def __call__(self, trial: Trial, state: SearchState) -> None:
        if len(state.directions) != 1:
            raise ValueError("EarlyStopping works with a single objective")
        if not trial.counted:
            return
        sign = 1.0 if state.directions[0] == "minimize" else -1.0
        if trial.status == TrialStatus.DONE and trial.values is not None:
            v = sign * trial.values[0]
            if v < self._best - self.min_delta:
                self._best = v
                self._since = 0
                return
        self._since += 1
        if self._since >= self.patience:
            state.stop(f"no improvement in the last {self.patience} trials")
