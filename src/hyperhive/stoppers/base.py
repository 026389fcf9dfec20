"""The stopper contract: one decision per report, from rung summaries kept in a store.

A stopper is bound once with :meth:`Stopper.setup` (the objectives' directions, the
search's seed, the rung store the run shares), then :meth:`Stopper.report` is called
with every intermediate value a trial reports and answers True ("stop it") or False
("go on"). Subclasses implement :meth:`Stopper._decide`; the base class turns the
values into losses, checks them and never stops a trial at (or past) ``max_steps``.

Several objectives:
    Every stopper ranks a value at a rung by its **Pareto rank**: the number of
    values recorded at that rung that dominate it (no worse in every objective and
    better in one; 0 for the non-dominated values). With one objective this is the
    number of strictly better values, so the one-objective rules are the special
    case. ASHA keeps the trials whose rank is below ``floor(n / reduction_factor)``,
    the median rule stops a trial that more than half of the others dominate, and the
    learning-curve rule stops a trial whose optimistic forecast is dominated by a
    value some trial reached at ``max_steps``.

Determinism and arrival order:
    A decision is a function of the trial's own reports and of the records at the
    rung it is compared at, at the moment it is decided; no randomness is involved
    except Hyperband's bracket, drawn from ``(seed, trial_id)``. So the same reports
    in the same order give the same decisions in every store, and reports of several
    trials interleaved differently give the same decisions as long as the records
    reaching each rung keep their order. :class:`~hyperhive.stoppers.Constant` does
    not depend on arrival order at all (:attr:`Stopper.order_independent`); the
    others compare a trial with those that reached a rung before it, as every
    asynchronous rule does.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from hyperhive.storage.rungs import RungStore

__all__ = ["Stopper", "check_steps"]

_DIRECTIONS = ("minimize", "maximize")


def check_steps(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """``value`` as a positive int step count, or a ValueError naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class Stopper(abc.ABC):
    """Decides, at each report of a trial, whether to stop it.

    Attributes:
        min_steps: The first step at which a trial may be stopped.
        max_steps: The step a full training reaches (a trial there is never stopped);
            None when the stopper does not need it and the loop did not give it.
    """

    #: The name the registry knows it by.
    name: ClassVar[str] = ""
    #: True when decisions do not depend on the order reports of different trials arrive.
    order_independent: ClassVar[bool] = False

    def __init__(self, min_steps: int = 1, max_steps: int | None = None) -> None:
        self.min_steps: int = check_steps("min_steps", min_steps)  # type: ignore[assignment]
        self.max_steps = check_steps("max_steps", max_steps, allow_none=True)
        if self.max_steps is not None and self.max_steps < self.min_steps:
            raise ValueError(
                f"max_steps must be >= min_steps, got max_steps={max_steps!r} "
                f"and min_steps={min_steps!r}"
            )
        self.directions: list[str] = ["minimize"]
        self.seed = 0
        self._rungs: RungStore | None = None

    # -- binding -----------------------------------------------------------------
    def setup(
        self,
        directions: str | Sequence[str] = "minimize",
        *,
        seed: int | None = None,
        rungs: RungStore | None = None,
        max_steps: int | None = None,
    ) -> None:
        """Bind the stopper to a search.

        Args:
            directions: ``"minimize"``/``"maximize"``, one per objective.
            seed: The search's seed (Hyperband draws brackets from it).
            rungs: The rung store the run shares (default: a new in-memory one).
            max_steps: The search's full training length, used when the stopper was
                built without one.
        """
        dirs = [directions] if isinstance(directions, str) else list(directions)
        if not dirs or any(d not in _DIRECTIONS for d in dirs):
            raise ValueError(
                f"directions must be 'minimize' or 'maximize' (one per objective), "
                f"got {directions!r}"
            )
        if self.max_steps is None and max_steps is not None:
            self.max_steps = check_steps("max_steps", max_steps)
        if rungs is None:
            from hyperhive.storage.rungs import MemoryRungs

            rungs = MemoryRungs()
        self.directions = dirs
        self.seed = 0 if seed is None else int(seed)
        self._rungs = rungs
        self._setup()

    def _setup(self) -> None:  # noqa: B027 - an optional hook
        """Hook for subclasses, called at the end of :meth:`setup`."""

    @property
    def rungs(self) -> RungStore:
        """The bound rung store (a memory one is bound on first use)."""
        if self._rungs is None:
            self.setup(self.directions, seed=self.seed)
        return self._rungs  # type: ignore[return-value]

    # -- the decision ------------------------------------------------------------
    def report(self, trial_id: int, value: float | Sequence[float], step: int) -> bool:
        """Record a trial's value at ``step`` and say whether to stop it.

        Args:
            trial_id: The trial's id.
            value: A float, or one float per objective (NaN counts as the worst).
            step: The step (epoch) reached, from 1.

        Returns:
            True to stop the trial now, False to let it go on.

        Raises:
            ValueError: On a step below 1 or a wrong number of values.
        """
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"step must be a positive integer, got {step!r}")
        losses = self.losses(value)
        rungs = self.rungs
        stop = self._decide(int(trial_id), step, losses, rungs)
        if self.max_steps is not None and step >= self.max_steps:
            return False
        return bool(stop) and step >= self.min_steps

    def losses(self, value: float | Sequence[float]) -> tuple[float, ...]:
        """``value`` as losses to minimize (maximized objectives negated; NaN -> +inf)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            vals: tuple[Any, ...] = (value,)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            vals = tuple(value)
        else:
            raise TypeError(
                f"a report value must be a float or a sequence of floats, got {value!r}"
            )
        if len(vals) != len(self.directions):
            raise ValueError(
                f"expected {len(self.directions)} value(s), one per objective, got {value!r}"
            )
        out = []
        for v, d in zip(vals, self.directions, strict=True):
            f = float(v)
            f = -f if d == "maximize" else f
            out.append(f if math.isfinite(f) else math.inf)
        return tuple(out)

    @abc.abstractmethod
    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        """Record what the rule needs in ``rungs`` and return True to stop the trial.

        Called for every report; ``losses`` are to be minimized. The base class
        ignores a True answer at or past ``max_steps`` and before ``min_steps``.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(min_steps={self.min_steps}, max_steps={self.max_steps})"
