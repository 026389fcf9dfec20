"""The trial record: one evaluation of the objective, from submission to its end."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any


class TrialStatus(str, enum.Enum):
    """Where a trial stands.

    ``max_evals`` counts ``DONE``, ``FAILED``, ``TIMEOUT`` and ``STOPPED`` trials;
    ``LOST`` trials are retried and ``CANCELLED`` ones were cut by the search itself.
    """

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    LOST = "lost"
    STOPPED = "stopped"

    @property
    def finished(self) -> bool:
        """True for every status a trial can end with."""
        return self not in (TrialStatus.PENDING, TrialStatus.RUNNING)

    @property
    def counted(self) -> bool:
        """True for the statuses that count toward ``max_evals``."""
        return self in COUNTED

    def __str__(self) -> str:
        return self.value


COUNTED = frozenset(
    {TrialStatus.DONE, TrialStatus.FAILED, TrialStatus.TIMEOUT, TrialStatus.STOPPED}
)


@dataclass
class Report:
    """An intermediate value reported by a running objective (``hh.report``)."""

    step: int | None
    value: float | tuple[float, ...]
    time: float


@dataclass
class Trial:
    """One record per trial: its configuration, status, result and timings.

    Times are seconds since the epoch. ``objective`` is a float for a single
    objective and a tuple of floats for several (``None`` until the trial is done,
    and for trials that did not succeed).
    """

    id: int
    config: dict[str, Any]
    status: TrialStatus = TrialStatus.PENDING
    objective: float | tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    reports: list[Report] = field(default_factory=list)
    seed: int | None = None
    submitted: float | None = None
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    host: str | None = None
    reason: str | None = None
    traceback: str | None = None
    attempt: int = 0
    retry_of: int | None = None
    peer: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds the objective ran (``finished - started``), if known."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    @property
    def values(self) -> tuple[float, ...] | None:
        """The objective as a tuple of floats (one element for a single objective)."""
        if self.objective is None:
            return None
        if isinstance(self.objective, tuple | list):
            return tuple(float(v) for v in self.objective)
        return (float(self.objective),)

    @property
    def feasible(self) -> bool:
        """True when there are no constraints or every constraint value is <= 0."""
        if self.constraints is None:
            return True
        return all(c <= 0 for c in self.constraints)

    @property
    def counted(self) -> bool:
        """True when the trial counts toward ``max_evals``."""
        return self.status.counted

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view of the record."""
        return {
            "id": self.id,
            "config": dict(self.config),
            "status": self.status.value,
            "objective": list(self.objective)
            if isinstance(self.objective, tuple)
            else self.objective,
            "constraints": list(self.constraints) if self.constraints is not None else None,
            "metadata": dict(self.metadata),
            "reports": [
                {"step": r.step, "value": _jsonable(r.value), "time": r.time} for r in self.reports
            ],
            "seed": self.seed,
            "submitted": self.submitted,
            "started": self.started,
            "finished": self.finished,
            "worker": self.worker,
            "host": self.host,
            "reason": self.reason,
            "traceback": self.traceback,
            "attempt": self.attempt,
            "retry_of": self.retry_of,
            "peer": self.peer,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def is_finite_number(value: Any) -> bool:
    """True for a real number (not bool) that is neither NaN nor infinite."""
    if isinstance(value, bool):
        return False
    try:
        f = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(f)
