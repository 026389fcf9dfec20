"""The loop's decisions as plain functions, shared by :class:`~hyperhive.search.core.Loop`
and the simulator (:mod:`hyperhive.simulate`), so that both model the same search."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from hyperhive.executors import TrialOutcome
from hyperhive.search.state import finish_order
from hyperhive.trial import Trial, TrialStatus, finish_event

__all__ = [
    "Pick",
    "crash_reason",
    "fill_count",
    "finish_order",
    "outcome_event",
    "resolved",
    "utilization",
]


@dataclass
class Pick:
    """A configuration about to become a trial: fresh, a re-run, or a reclaimed trial."""

    config: dict[str, Any]
    attempt: int = 0
    retry_of: int | None = None
    #: an open trial of a peer whose lease expired, ended ``lost`` by the claim
    reclaim: Trial | None = None


def resolved(trial_id: int, fut: Future[TrialOutcome]) -> TrialOutcome:
    """The outcome a trial's future resolved to; an executor error loses the trial."""
    try:
        return fut.result()
    except BaseException as exc:  # noqa: BLE001 - an executor error loses the trial
        return TrialOutcome(trial_id, TrialStatus.LOST, reason=f"executor error: {exc!r}")


def outcome_event(out: TrialOutcome, n_objectives: int) -> dict[str, Any]:
    """The ``end`` event of a trial, built from its outcome (from an executor, or from
    the value given to ``Run.tell``): a done trial with the wrong number of objective
    values fails."""
    trial_id = out.trial_id
    status, objective, reason = out.status, out.objective, out.reason
    n_vals = 0 if objective is None else (len(objective) if isinstance(objective, tuple) else 1)
    if status == TrialStatus.DONE and n_vals != n_objectives:
        status, objective = TrialStatus.FAILED, None
        reason = (
            f"objective returned {n_vals} value(s) but the search has {n_objectives} direction(s)"
        )
    return finish_event(
        trial_id,
        status,
        objective=objective,
        constraints=out.constraints,
        metadata=out.metadata,
        reason=reason,
        traceback=out.traceback,
        started=out.started,
        finished=out.finished,
        worker=out.worker,
        host=out.host,
    )


def crash_reason(reason: str | None, deaths: int, max_retries: int) -> str:
    """The reason of a trial that ends ``failed`` because its worker died ``deaths``
    times running its configuration, more than ``max_retries`` allows; the last
    ``lost`` outcome's ``reason`` (from the executor: the signal or exit code) follows."""
    what = (reason or "the worker died").rstrip(".")
    times = "once" if deaths == 1 else f"{deaths} times"
    return (
        f"the worker died {times} running this configuration "
        f"(max_retries={max_retries}); last: {what}"
    )


def fill_count(workers: int, queued: int, taken: int, room: int | None) -> int:
    """How many trials to create now: free worker slots (``workers`` plus the executor's
    ``queued`` slots minus the ``taken`` ones), at most the budget's ``room``."""
    free = workers + queued - taken
    return free if room is None else min(free, room)


def utilization(
    busy: float, running_since: Sequence[float], workers: int, elapsed: float, now: float
) -> float:
    """Share of the workers' time spent in trials since the start, at most 1.

    ``busy`` is the time of the trials that ended; of the trials in flight only the
    oldest ``workers`` run (the others wait in the executor's queue), so only they count.
    """
    denom = workers * elapsed
    if denom <= 0:
        return 0.0
    running = sum(now - s for s in sorted(running_since)[:workers])
    return min(1.0, (busy + running) / denom)
