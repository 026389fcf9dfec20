"""The state of a process executor's slots and queue, and its transitions.

The I/O thread and the API of :class:`~hyperhive.executors._pool.SlotPool` hold one
:class:`PoolState` (composition: the state has no thread of its own). Its methods
run with :attr:`PoolState.lock` held, except where a method says otherwise. Futures
are resolved (:meth:`PoolState.flush`) with the lock released, since a done-callback
may call back into the executor.
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

from hyperhive.executors._child import slot_main
from hyperhive.executors._prefetch import WaitStats
from hyperhive.executors._procs import SIGKILL, SlotState, send_signal
from hyperhive.executors._protocol import Msg, dumps, task_to_wire
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
        self.ctx, self.payload, self.sink, self.threads = ctx, payload, sink, threads
        self.grace, self.name = grace, name
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.slots: list[SlotState | None] = [None] * workers
        self.owner: dict[Any, SlotState] = {}  # connection or sentinel -> slot
        self.idle: list[SlotState] = []
        self.queue: collections.OrderedDict[int, tuple[TrialTask, Future[TrialOutcome]]]
        self.queue = collections.OrderedDict()
        self.running: dict[int, SlotState] = {}
        self.stops: set[int] = set()  # queued trials already asked to stop
        self.orphans: list[tuple[int, float]] = []  # (process group, SIGKILL time)
        self.later: list[tuple[Future[TrialOutcome], TrialOutcome]] = []
        self.start_failures = 0
        self.broken: str | None = None
        self.closing: str | None = None  # None, "wait" or "now"
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        #: How long a slot that finished a trial waited for the next one (the driver's
        #: round trip), and trial durations (the process executor's ``prefetch`` rule).
        self.waits = WaitStats()

    # -- transitions (lock held) ------------------------------------------------------

    def spawn(self, index: int) -> None:
        """Start slot ``index`` (called without the lock: starting takes a while)."""
        conn, child = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=slot_main,
            args=(index, child, [self.payload], self.threads),
            name=f"hyperhive-{self.name}-{index}",
        )
        try:
            proc.start()
        finally:
            child.close()
        with self.lock:
            slot = SlotState(index, proc, conn)
            self.slots[index] = slot
            self.owner[conn] = slot
            self.owner[slot.sentinel] = slot
            if self.closing is not None:
                self.retire_spare()

    def dispatch(self, slot: SlotState, task: TrialTask, fut: Future[TrialOutcome]) -> None:
        stop = task.trial_id in self.stops
        self.stops.discard(task.trial_id)
        try:
            data = dumps(Msg.TASK, task_to_wire(task), stop, False)
        except Exception as exc:  # noqa: BLE001 - a configuration that does not pickle
            reason = f"the trial's configuration cannot be sent to a worker: {exc!r}"
            self.later.append((fut, self.outcome(task, TrialStatus.FAILED, reason)))
            self.next(slot)
            return
        try:
            slot.conn.send_bytes(data)
        except OSError:
            # The slot is dying: the trial goes back to the front of the queue.
            self.queue[task.trial_id] = (task, fut)
            self.queue.move_to_end(task.trial_id, last=False)
            if stop:
                self.stops.add(task.trial_id)
            return
        slot.task, slot.future = task, fut
        if slot.idle_at is not None and slot.ran:
            self.waits.wait(time.monotonic() - slot.idle_at)
        slot.idle_at, slot.ran = None, True
        slot.started = time.time()
        if task.timeout is not None:
            slot.deadline = time.monotonic() + task.timeout
        self.running[task.trial_id] = slot

    def next(self, slot: SlotState) -> None:
        """Give a free slot its next task, or park it."""
        if slot.exiting or not slot.ready:
            return
        if self.queue and self.broken is None:
            _, (task, fut) = self.queue.popitem(last=False)
            self.dispatch(slot, task, fut)
        elif self.closing is not None:
            self.retire_spare()
        else:
            slot.idle_at = time.monotonic()
            self.idle.append(slot)

    def retire_spare(self) -> None:
        """While closing with nothing queued, tell every slot without a trial to exit."""
        if self.queue and self.broken is None:
            return
        self.idle.clear()
        for slot in self.slots:
            if slot is not None and slot.task is None and not slot.exiting:
                slot.exiting = True
                slot.kill_at = time.monotonic() + self.grace
                try:
                    slot.conn.send_bytes(dumps(Msg.EXIT))
                except OSError:
                    pass

    def end(self, slot: SlotState, status: TrialStatus, reason: str) -> None:
        """End the slot's trial by ending its process group."""
        slot.ending = (status, reason)
        slot.deadline = None
        if self.grace > 0:
            send_signal(slot.pid, signal.SIGTERM, slot.group)
            slot.term_sent = True
            slot.kill_at = time.monotonic() + self.grace
        else:
            send_signal(slot.pid, SIGKILL, slot.group)

    def outcome(
        self, task: TrialTask, status: TrialStatus, reason: str, slot: SlotState | None = None
    ) -> TrialOutcome:
        return TrialOutcome(
            trial_id=task.trial_id,
            status=status,
            reason=reason,
            started=slot.started if slot is not None else None,
            finished=time.time(),
            worker=f"{self.name}-{slot.index}" if slot is not None else None,
            host=HOST,
        )

    def clear_trial(self, slot: SlotState) -> tuple[TrialTask, Future[TrialOutcome]] | None:
        if slot.task is None or slot.future is None:
            return None
        task, fut = slot.task, slot.future
        self.running.pop(task.trial_id, None)
        slot.task = slot.future = None
        slot.deadline = None
        return task, fut

    def mark_broken(self, reason: str) -> None:
        self.broken = reason
        for task, fut in self.queue.values():
            self.later.append((fut, self.outcome(task, TrialStatus.FAILED, reason)))
        self.queue.clear()
        log.error("process executor: %s", reason)

    # -- outside the lock ----------------------------------------------------------

    def flush(self) -> None:
        if not self.later:  # whoever appends also flushes
            return
        with self.lock:
            items, self.later = self.later, []
        for fut, outcome in items:
            fut.set_result(outcome)

    def wake(self) -> None:
        try:
            os.write(self.wake_w, b"!")
        except OSError:
            pass
