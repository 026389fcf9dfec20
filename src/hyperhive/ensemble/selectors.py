"""Selectors: which members, and how many copies of each, make the ensemble.

A selector takes the members' outputs on validation data (a :class:`Stack`) and a
size and returns ``{member index: weight}`` with weights summing to one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperhive.ensemble.outputs import Stack

__all__ = ["SELECTORS", "greedy", "select", "topk"]

Selection = dict[int, float]


def topk(stack: Stack, size: int) -> Selection:
    """The ``size`` members with the lowest validation loss, equally weighted.

    Ties go to the lower index (members come ordered by their trial's objective).
    """
    losses = stack.member_losses()
    order = sorted(range(stack.m), key=lambda i: (_finite(float(losses[i])), i))
    chosen = order[: min(size, stack.m)]
    return {i: 1.0 / len(chosen) for i in sorted(chosen)}


def greedy(stack: Stack, size: int, tolerance: float = 0.0, init: int | None = None) -> Selection:
    """Caruana et al.'s (2004) forward selection with replacement.

    Starts from the ``init`` members with the lowest validation loss (Caruana's sorted
    initialization; None: ``size`` of them) and repeatedly adds, again or anew, the
    member that lowers the ensemble's validation loss most, as long as it lowers it by
    more than ``tolerance``. Once ``size`` distinct members are in, only copies of them
    are added (their weights are refined), for at most ``2 * size`` picks in all. A
    member picked ``c`` times out of ``t`` gets weight ``c / t``.

    Why ``size`` members to start with: the validation set that selects the members
    also ranked the trials and stopped their training, so it flatters the best ones.
    Starting from one member (``init=1``), greedy selection often stopped at one or two
    members, and such ensembles were overconfident on test data: on statsmodels' ``fair``
    data (benchmarks/ensemble_uq.py, seed 1) a 2-member greedy ensemble had a test NLL of
    2.17 against 1.13 for 5 members. Caruana et al. also start from several members to
    keep the selection from overfitting.
    """
    losses = np.array([_finite(float(v)) for v in stack.member_losses()])
    order = sorted(range(stack.m), key=lambda i: (losses[i], i))
    counts = np.zeros(stack.m)
    counts[order[: max(1, min(size if init is None else init, size))]] = 1.0
    best = _finite(stack.loss(counts / counts.sum()))
    while counts.sum() < 2 * size:
        trial = np.array([_finite(float(v)) for v in stack.losses_adding(counts)])
        if np.count_nonzero(counts) >= size:
            trial[counts == 0] = np.inf
        j = int(np.argmin(trial))
        if not trial[j] < best - tolerance:
            break
        counts[j] += 1.0
        best = float(trial[j])
    total = counts.sum()
    return {int(i): float(counts[i] / total) for i in np.flatnonzero(counts)}


def _finite(v: float) -> float:
    return float(v) if np.isfinite(v) else float("inf")


SELECTORS: dict[str, Callable[[Stack, int], Selection]] = {"topk": topk, "greedy": greedy}
"""Selectors by name (``"online"`` is :class:`hyperhive.ensemble.OnlineEnsemble`)."""


def select(name: str, stack: Stack, size: int) -> Selection:
    """Run the selector ``name`` (``"topk"`` or ``"greedy"``).

    Raises:
        ValueError: an unknown name or a size below one.
    """
    check_selector(name)
    return SELECTORS[name](stack, check_size(size))


def check_selector(name: object) -> str:
    """``name`` when it names a selector, else ValueError."""
    if name not in SELECTORS:
        hint = " (for 'online' use ensemble.OnlineEnsemble as a search callback)"
        raise ValueError(
            f"selector must be one of {sorted(SELECTORS)}, got {name!r}"
            + (hint if name == "online" else "")
        )
    return str(name)


def check_size(size: object) -> int:
    """``size`` as a positive integer, else ValueError."""
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    return int(size)
