"""Plain-tuple wire formats and the worker-side channel shared by the remote executors.

Kept free of engine imports: it is loaded in Dask and Ray workers, MPI ranks and the
killable child processes of :mod:`hyperhive.executors._isolated`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.executors.runner import HOST
from hyperhive.trial import TrialStatus

__all__ = [
    "Control",
    "Flags",
    "Forward",
    "WorkerChannel",
    "failed_outcome",
    "outcome_from_wire",
    "outcome_to_wire",
    "task_from_wire",
    "task_to_wire",
]

#: ``forward(trial_id, seq, step, value, time)`` sends one report to the driver now.
Forward = Callable[[int, int, "int | None", Any, float], None]


def outcome_to_wire(o: TrialOutcome) -> tuple[Any, ...]:
    """An outcome as a tuple of plain values."""
    return (
        o.trial_id, o.status.value, o.objective, o.constraints, o.metadata, o.reason,
        o.traceback, o.started, o.finished, o.worker, o.host,
    )  # fmt: skip


def outcome_from_wire(fields: tuple[Any, ...] | list[Any]) -> TrialOutcome:
    """Inverse of :func:`outcome_to_wire` (lists, as msgpack returns them, become tuples)."""
    tid, status, objective, constraints, metadata, reason, trace, *rest = fields
    if isinstance(objective, list):
        objective = tuple(objective)
    if isinstance(constraints, list):
        constraints = tuple(constraints)
    return TrialOutcome(
        tid, TrialStatus(status), objective, constraints, metadata or {}, reason, trace, *rest
    )


def task_to_wire(t: TrialTask) -> tuple[Any, ...]:
    """A task as a tuple of plain values."""
    return (t.trial_id, t.config, t.seed, t.artifact_dir, t.timeout, t.capture_output)


def task_from_wire(fields: tuple[Any, ...] | list[Any]) -> TrialTask:
    """Inverse of :func:`task_to_wire`."""
    return TrialTask(*fields)


def failed_outcome(
    trial_id: int, worker: str, reason: str, trace: str | None = None
) -> TrialOutcome:
    """A ``failed`` outcome made on the worker (the objective never ran)."""
    now = time.time()
    return TrialOutcome(
        trial_id, TrialStatus.FAILED, reason=reason, traceback=trace, started=now,
        finished=now, worker=worker, host=HOST,
    )  # fmt: skip


class Control(Protocol):
    """The worker's view of what the driver asked of a running trial."""

    def stop_requested(self) -> bool:
        """True once ``hh.should_stop()`` should be True."""

    def kill_requested(self) -> bool:
        """True once the trial must be ended now (cancelled)."""


class Flags:
    """A :class:`Control` that the engine's own messages set (Dask, MPI)."""

    def __init__(self, poll: Callable[[], None] | None = None) -> None:
        self.stop = False
        self.kill = False
        self._poll = poll

    def stop_requested(self) -> bool:
        if self._poll is not None and not self.stop:
            self._poll()
        return self.stop or self.kill

    def kill_requested(self) -> bool:
        if self._poll is not None and not self.kill:
            self._poll()
        return self.kill


class WorkerChannel:
    """The worker-side :class:`~hyperhive.trial.Channel` of a remote trial.

    Every report is kept (they go back with the outcome, so none is lost) and, when
    ``forward`` is given, also sent to the driver at once, numbered so that the driver
    can drop the copies.
    """

    def __init__(self, control: Control, forward: Forward | None = None) -> None:
        self.control = control
        self.forward = forward
        self.reports: list[tuple[int | None, Any, float]] = []
        self._lock = threading.Lock()

    def send_report(self, trial_id: int, step: int | None, value: Any, time: float) -> None:
        """Keep one report and forward it (a failing forward is ignored: it is kept)."""
        with self._lock:
            seq = len(self.reports)
            self.reports.append((step, value, time))
        if self.forward is not None:
            try:
                self.forward(trial_id, seq, step, value, time)
            except Exception:  # noqa: BLE001 - the report still goes back with the outcome
                self.forward = None

    def stop_requested(self, trial_id: int) -> bool:
        """True once the driver asked the trial to stop."""
        return self.control.stop_requested()
