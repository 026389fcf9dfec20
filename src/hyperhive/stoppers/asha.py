"""Asynchronous successive halving (ASHA) and asynchronous Hyperband, as stopping rules.

Rungs are the steps ``min_steps * reduction_factor ** (k + s)`` (k = 0, 1, ...) below
``max_steps``, where ``s`` is the minimum early-stopping rate (Li et al., 2020,
"A System for Massively Parallel Hyperparameter Tuning"). When a trial reports a
step at or past a rung for the first time, its value is recorded there and compared
with the values recorded at that rung so far: it goes on when its Pareto rank (the
number of recorded values that dominate it) is below ``max(1, n // reduction_factor)``,
``n`` counting every record there, its own included; otherwise it stops.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hyperhive.stoppers.base import Stopper, check_steps

if TYPE_CHECKING:
    from hyperhive.storage.rungs import RungStore

__all__ = ["ASHA", "Hyperband"]

_BRACKET_STREAM = 0x5B  # keeps the bracket draws apart from other streams of the seed


def _check_factor(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"reduction_factor must be an integer >= 2, got {value!r}")
    return value


def _check_guard(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"guard must be an integer >= 0, got {value!r}")
    return value


def rung_at(step: int, min_steps: int, factor: int, rate: int) -> int | None:
    """The highest rung ``min_steps * factor**(k + rate)`` (k >= 0) at or below ``step``."""
    first = min_steps * factor**rate
    if step < first:
        return None
    rung = first
    while rung * factor <= step:
        rung *= factor
    return rung


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def halving_decision(
    rungs: RungStore,
    key: str,
    trial_id: int,
    rung: int,
    losses: tuple[float, ...],
    factor: int,
    guard: int = 0,
    final: int | None = None,
) -> bool:
    """Record ``losses`` at ``rung`` and return True when the trial falls out of the top.

    With ``guard > 0`` the trial is stopped only if, besides, each of the ``guard`` best
    trials that reached ``final`` looked better at this rung than it does now (their
    record here dominates its values); none is stopped before ``guard`` trials got there.
    """
    new, n, dominating = rungs.record_rank(key, trial_id, rung, losses)
    if not new:
        return False  # decided when first recorded
    if dominating < max(1, n // factor):
        return False
    if guard <= 0 or final is None:
        return True
    best = rungs.best(key, final, guard)
    if len(best) < guard:
        return False
    for tid, _ in best:
        early = rungs.trial(key, tid).get(rung)
        if early is None or not _dominates(early, losses):
            return False
    return True


class ASHA(Stopper):
    """Asynchronous successive halving.

    Args:
        min_steps: The first rung (steps before it are never stopped).
        max_steps: The full training length; no rung at or past it (None: the
            search's, else unbounded).
        reduction_factor: Keep about one trial in this many at each rung.
        min_early_stopping_rate: Skip this many rungs: the first is
            ``min_steps * reduction_factor ** min_early_stopping_rate``.
        guard: When positive, guard against crossing curves: a trial out of the top
            at a rung is stopped only if each of the ``guard`` best trials that reached
            ``max_steps`` looked better at that rung than it does, and nothing is
            stopped before ``guard`` trials reached ``max_steps``. Where early rankings
            hold, the best finished trials were good early too and this changes little;
            where curves cross (the best finals looked poor early), it stops far less.
    """

    name = "asha"

    def __init__(
        self,
        min_steps: int = 1,
        max_steps: int | None = None,
        reduction_factor: int = 3,
        min_early_stopping_rate: int = 0,
        *,
        guard: int = 0,
    ) -> None:
        super().__init__(min_steps, max_steps)
        self.reduction_factor = _check_factor(reduction_factor)
        self.guard = _check_guard(guard)
        rate = min_early_stopping_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 0:
            raise ValueError(f"min_early_stopping_rate must be an integer >= 0, got {rate!r}")
        self.min_early_stopping_rate = rate
        self.key = f"asha{rate}"

    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        final = self.max_steps
        if self.guard and final is not None and step >= final:
            rungs.record(self.key, trial_id, final, losses)
            return False
        rung = rung_at(step, self.min_steps, self.reduction_factor, self.min_early_stopping_rate)
        if rung is None or (final is not None and rung >= final):
            return False
        return halving_decision(
            rungs, self.key, trial_id, rung, losses, self.reduction_factor, self.guard, final
        )

    def __repr__(self) -> str:
        return (
            f"ASHA(min_steps={self.min_steps}, max_steps={self.max_steps}, "
            f"reduction_factor={self.reduction_factor}, "
            f"min_early_stopping_rate={self.min_early_stopping_rate}, guard={self.guard})"
        )


class Hyperband(Stopper):
    """Asynchronous Hyperband: several ASHA brackets, each trial in one.

    Bracket ``s`` (0 to ``s_max = floor(log_eta(max_steps / min_steps))``) is ASHA
    with minimum early-stopping rate ``s``; bracket ``s_max`` never stops. A trial's
    bracket is drawn from ``(seed, trial_id)`` alone, so every peer and every resume
    puts it in the same one, with Hyperband's proportions (Li et al., 2018): bracket
    ``s`` gets weight ``(s_max + 1) / (s_max - s + 1) * eta ** (s_max - s)``.

    Args:
        min_steps: The first rung of the most aggressive bracket.
        max_steps: The full training length (required here or from the search).
        reduction_factor: ``eta``, as in ASHA.
    """

    name = "hyperband"

    def __init__(
        self, min_steps: int = 1, max_steps: int | None = None, reduction_factor: int = 3
    ) -> None:
        super().__init__(min_steps, max_steps)
        self.reduction_factor = _check_factor(reduction_factor)

    def brackets(self) -> list[float]:
        """The probability of each bracket ``s = 0 .. s_max``."""
        if self.max_steps is None:
            raise ValueError("Hyperband needs max_steps (give it, or the search's)")
        eta = self.reduction_factor
        s_max = int(math.floor(math.log(self.max_steps / self.min_steps, eta) + 1e-9))
        w = [(s_max + 1) / (s_max - s + 1) * eta ** (s_max - s) for s in range(s_max + 1)]
        total = sum(w)
        return [x / total for x in w]

    def bracket(self, trial_id: int) -> int:
        """The bracket of ``trial_id`` (a pure function of the seed and the id)."""
        import numpy as np

        probs = self.brackets()
        u = np.random.default_rng([_BRACKET_STREAM, self.seed, int(trial_id)]).random()
        return min(int(np.searchsorted(np.cumsum(probs), u, side="right")), len(probs) - 1)

    def _setup(self) -> None:
        check_steps("max_steps", self.max_steps)

    def _decide(
        self, trial_id: int, step: int, losses: tuple[float, ...], rungs: RungStore
    ) -> bool:
        s = self.bracket(trial_id)
        rung = rung_at(step, self.min_steps, self.reduction_factor, s)
        if rung is None or rung >= (self.max_steps or 0):
            return False
        return halving_decision(
            rungs, f"hyperband{s}", trial_id, rung, losses, self.reduction_factor
        )

    def __repr__(self) -> str:
        return (
            f"Hyperband(min_steps={self.min_steps}, max_steps={self.max_steps}, "
            f"reduction_factor={self.reduction_factor})"
        )
