"""The state of a process executor's slots and queue, and its transitions.

Everything here runs with :attr:`PoolState._lock` held, except where a method
says otherwise. Futures are resolved (:meth:`PoolState._flush`) with the lock
released, since a done-callback may call back into the executor.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import threading
import time
from concurrent.futures import Future
from typing import Any

from hyperhive.executors._prefetch import WaitStats
from hyperhive.executors._procs import SIGKILL, SlotState, send_signal
from hyperhive.executors._slot import EXIT, TASK, dumps, slot_main
from hyperhive.executors.base import ReportSink, TrialOutcome, TrialTask
from hyperhive.executors.runner import HOST
from hyperhive.trial import TrialStatus

__all__ = ["PoolState"]

log = logging.getLogger("hyperhive.executors")


class PoolState:
    """Slots, queue and running trials of one process executor (see :class:`SlotPool`)."""

    def __init__(
        self,
        ctx: Any,
        workers: int,
        payload: bytes,
        sink: ReportSink,
        grace: float,
        name: str,
        threads: dict[str, int] | None = None,
    ) -> None:
        self._ctx, self._payload, self._sink, self._threads = ctx, payload, sink, threads
        self._grace, self._name = grace, name
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._slots: list[SlotState | None] = [None] * workers
        self._owner: dict[Any, SlotState] = {}  # connection or sentinel -> slot
        self._idle: list[SlotState] = []
        self._queue: collections.OrderedDict[int, tuple[TrialTask, Future[TrialOutcome]]]
        self._queue = collections.OrderedDict()
        self._running: dict[int, SlotState] = {}
        self._stops: set[int] = set()  # queued trials already asked to stop
        self._orphans: list[tuple[int, float]] = []  # (process group, SIGKILL time)
        self._later: list[tuple[Future[TrialOutcome], TrialOutcome]] = []
        self._start_failures = 0
        self._broken: str | None = None
        self._closing: str | None = None  # None, "wait" or "now"
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        #: How long a slot that finished a trial waited for the next one (the driver's
        #: round trip), and trial durations (the process executor's ``prefetch`` rule).
        self.waits = WaitStats()

    # -- helpers (lock held) ------------------------------------------------------

    def _spawn(self, index: int) -> None:
        """Start slot ``index`` (called without the lock: starting takes a while)."""
        conn, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=slot_main,
            args=(index, child, [self._payload], self._threads),
            name=f"hyperhive-{self._name}-{index}",
        )
        try:
            proc.start()
        finally:
            child.close()
        with self._lock:
            slot = SlotState(index, proc, conn)
            self._slots[index] = slot
            self._owner[conn] = slot
            self._owner[slot.sentinel] = slot
            if self._closing is not None:
                self._retire_spare()

    def _dispatch(self, slot: SlotState, task: TrialTask, fut: Future[TrialOutcome]) -> None:
        stop = task.trial_id in self._stops
        self._stops.discard(task.trial_id)
        try:
            data = dumps(
                (TASK, task.trial_id, task.config, task.seed, task.artifact_dir,
                 task.capture_output, stop)
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a configuration that does not pickle
            reason = f"the trial's configuration cannot be sent to a worker: {exc!r}"
            self._later.append((fut, self._outcome(task, TrialStatus.FAILED, reason)))
            self._next(slot)
            return
        try:
            slot.conn.send_bytes(data)
        except OSError:
            # The slot is dying: the trial goes back to the front of the queue.
            self._queue[task.trial_id] = (task, fut)
            self._queue.move_to_end(task.trial_id, last=False)
            if stop:
                self._stops.add(task.trial_id)
            return
        slot.task, slot.future = task, fut
        if slot.idle_at is not None and slot.ran:
            self.waits.wait(time.monotonic() - slot.idle_at)
        slot.idle_at, slot.ran = None, True
        slot.started = time.time()
        if task.timeout is not None:
            slot.deadline = time.monotonic() + task.timeout
        self._running[task.trial_id] = slot

    def _next(self, slot: SlotState) -> None:
        """Give a free slot its next task, or park it."""
        if slot.exiting or not slot.ready:
            return
        if self._queue and self._broken is None:
            _, (task, fut) = self._queue.popitem(last=False)
            self._dispatch(slot, task, fut)
        elif self._closing is not None:
            self._retire_spare()
        else:
            slot.idle_at = time.monotonic()
            self._idle.append(slot)

    def _retire_spare(self) -> None:
        """While closing with nothing queued, tell every slot without a trial to exit."""
        if self._queue and self._broken is None:
            return
        self._idle.clear()
        for slot in self._slots:
            if slot is not None and slot.task is None and not slot.exiting:
                slot.exiting = True
                slot.kill_at = time.monotonic() + self._grace
                try:
                    slot.conn.send_bytes(dumps((EXIT,)))
                except OSError:
                    pass

    def _end(self, slot: SlotState, status: TrialStatus, reason: str) -> None:
        """End the slot's trial by ending its process group."""
        slot.ending = (status, reason)
        slot.deadline = None
        if self._grace > 0:
            send_signal(slot.pid, signal.SIGTERM, slot.group)
            slot.term_sent = True
            slot.kill_at = time.monotonic() + self._grace
        else:
            send_signal(slot.pid, SIGKILL, slot.group)

    def _outcome(
        self, task: TrialTask, status: TrialStatus, reason: str, slot: SlotState | None = None
    ) -> TrialOutcome:
        return TrialOutcome(
            trial_id=task.trial_id,
            status=status,
            reason=reason,
            started=slot.started if slot is not None else None,
            finished=time.time(),
            worker=f"{self._name}-{slot.index}" if slot is not None else None,
            host=HOST,
        )

    def _clear_trial(self, slot: SlotState) -> tuple[TrialTask, Future[TrialOutcome]] | None:
        if slot.task is None or slot.future is None:
            return None
        task, fut = slot.task, slot.future
        self._running.pop(task.trial_id, None)
        slot.task = slot.future = None
        slot.deadline = None
        return task, fut

    def _break(self, reason: str) -> None:
        self._broken = reason
        for task, fut in self._queue.values():
            self._later.append((fut, self._outcome(task, TrialStatus.FAILED, reason)))
        self._queue.clear()
        log.error("process executor: %s", reason)

    # -- outside the lock ----------------------------------------------------------

    def _flush(self) -> None:
        if not self._later:  # whoever appends also flushes
            return
        with self._lock:
            items, self._later = self._later, []
        for fut, outcome in items:
            fut.set_result(outcome)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass
