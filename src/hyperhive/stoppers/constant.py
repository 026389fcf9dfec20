"""The one-epoch baseline: stop every trial at a fixed step (Egele et al., 2023)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperhive.stoppers.base import Stopper, check_steps

if TYPE_CHECKING:
    from hyperhive.storage.rungs import RungStore

__all__ = ["Constant"]


class Constant(Stopper):
    """Stop every trial when it reaches ``step`` (unless that is its full length).

    With ``step=1`` this is the "one epoch" baseline: every candidate is trained one
    epoch, and the best few are then trained fully (by the user, or by a second
    search over them without a stopper). It reads no rung and does not depend on the
    order reports arrive in.

    Args:
        step: The step at which every trial stops.
        max_steps: The full training length (a trial there is never stopped).
    """

    name = "constant"
    order_independent = True

    def __init__(self, step: int = 1, max_steps: int | None = None) -> None:
        self.step: int = check_steps("step", step)  # type: ignore[assignment]
        super().__init__(self.step, max_steps)

    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        return step >= self.step

    def __repr__(self) -> str:
        return f"Constant(step={self.step}, max_steps={self.max_steps})"
