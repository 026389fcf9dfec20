"""The worker-side channel of a running trial, and the controls that feed it.

:class:`WorkerChannel` is the one :class:`~hyperhive.trial.Channel` of every executor:
a trial's ``hh.report`` values go to a ``forward`` function (the sink in the driver's
process, a pipe message in a child process, an engine event on a cluster worker), and
``hh.should_stop()`` asks a :class:`Control`: :class:`Flags` that the executor sets
(threads, Dask, MPI), the pipe of a child process, or an engine-specific one (Ray).

An implementation of a cluster executor (see :class:`~hyperhive.executors.ClusterExecutor`)
uses :class:`Flags` or its own :class:`Control`, and :data:`Forward`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Control", "Flags", "Forward", "WorkerChannel"]

log = logging.getLogger("hyperhive.executors")

#: ``forward(trial_id, seq, step, value, time)`` sends one report on now (``seq``
#: numbers a trial's reports from 0, so that a receiver can drop copies).
Forward = Callable[[int, int, "int | None", Any, float], None]


class Control(Protocol):
    """The worker's view of what the driver asked of a running trial."""

    def stop_requested(self) -> bool:
        """True once ``hh.should_stop()`` should be True."""
        ...

    def kill_requested(self) -> bool:
        """True once the trial must be ended now (cancelled)."""
        ...


class Flags:
    """A :class:`Control` that the executor's own messages set.

    Args:
        poll: called before a flag is read while it is not set (to read pending
            messages, for example), or None.
    """

    def __init__(self, poll: Callable[[], None] | None = None) -> None:
        self.stop = False
        self.kill = False
        self._poll = poll

    def stop_requested(self) -> bool:
        """True once the stop (or kill) flag is set."""
        if self._poll is not None and not self.stop:
            self._poll()
        return self.stop or self.kill

    def kill_requested(self) -> bool:
        """True once the kill flag is set."""
        if self._poll is not None and not self.kill:
            self._poll()
        return self.kill


class WorkerChannel:
    """The :class:`~hyperhive.trial.Channel` of one running trial.

    Args:
        control: answers ``hh.should_stop()``.
        forward: sends each report on at once, numbered from 0 (None: none is sent).
        keep: also keep every report in :attr:`reports` (remote trials return them
            with the outcome, so none is lost when forwarding fails: the first failure
            then turns forwarding off). Without it a failing forward is logged and
            the next report is forwarded again.
    """

    def __init__(self, control: Control, forward: Forward | None = None, keep: bool = True) -> None:
        self.control = control
        self.forward = forward
        self.keep = keep
        self.reports: list[tuple[int | None, Any, float]] = []
        self._seq = 0
        self._lock = threading.Lock()

    def send_report(self, trial_id: int, step: int | None, value: Any, time: float) -> None:
        """Keep one report (``keep``) and forward it."""
        with self._lock:
            seq = self._seq
            self._seq += 1
            if self.keep:
                self.reports.append((step, value, time))
        forward = self.forward
        if forward is None:
            return
        try:
            forward(trial_id, seq, step, value, time)
        except Exception:  # noqa: BLE001 - never raised in the trial
            if self.keep:  # it still goes back with the outcome
                self.forward = None
            else:
                log.exception("a report of trial %d could not be delivered", trial_id)

    def stop_requested(self, trial_id: int) -> bool:
        """True once the driver asked the trial to stop."""
        return self.control.stop_requested()
