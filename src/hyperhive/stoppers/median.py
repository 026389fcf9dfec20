"""The median stopping rule (Golovin et al., 2017, "Google Vizier")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperhive.stoppers.base import Stopper

if TYPE_CHECKING:
    from hyperhive.storage.rungs import RungStore

__all__ = ["Median"]


class Median(Stopper):
    """Stop a trial whose best value so far is worse than the median of the others'.

    Every step from ``min_steps`` on is a rung. At each report the trial's best value
    so far (per objective) is recorded at that step; once at least ``min_trials``
    other trials have a record at the step, the trial stops when more than half of
    them dominate it (with one objective: its best so far is worse than the upper
    median of theirs at the same step).

    Args:
        min_steps: Steps before this one are never stopped.
        min_trials: Other trials needed at a step before it decides anything.
        max_steps: The full training length (a trial there is never stopped).
    """

    name = "median"

    def __init__(
        self, min_steps: int = 1, min_trials: int = 5, max_steps: int | None = None
    ) -> None:
        super().__init__(min_steps, max_steps)
        if isinstance(min_trials, bool) or not isinstance(min_trials, int) or min_trials < 1:
            raise ValueError(f"min_trials must be a positive integer, got {min_trials!r}")
        self.min_trials = min_trials
        self.key = "median"

    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        mine = rungs.trial(self.key, trial_id)
        earlier = [v for s, v in mine.items() if s < step]
        best = tuple(min(col) for col in zip(losses, *earlier, strict=True))
        new, n, dominating = rungs.record_rank(self.key, trial_id, step, best)
        if not new or step < self.min_steps or n - 1 < self.min_trials:
            return False
        return 2 * dominating > n - 1

    def __repr__(self) -> str:
        return (
            f"Median(min_steps={self.min_steps}, min_trials={self.min_trials}, "
            f"max_steps={self.max_steps})"
        )
