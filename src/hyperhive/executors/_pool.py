"""Driver side of the process executor: its API and the I/O thread.

The I/O thread waits on every slot's pipe and process sentinel and on the
deadlines; it calls the report sink and resolves the futures. The state and its
transitions are in :mod:`hyperhive.executors._state`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from typing import Any

from hyperhive.executors._procs import (
    SIGKILL,
    SlotState,
    describe_exit,
    group_alive,
    send_signal,
)
from hyperhive.executors._slot import (
    DONE,
    HELLO,
    REPORT,
    STOP,
    dumps,
    loads,
    outcome_from_wire,
)
from hyperhive.executors._state import PoolState
from hyperhive.executors.base import ReportSink, TrialOutcome, TrialTask
from hyperhive.trial import TrialStatus

__all__ = ["SlotPool"]

log = logging.getLogger("hyperhive.executors")

#: Slots that end before saying hello this many times in a row break the executor.
MAX_START_FAILURES = 3
#: Seconds between checks that the leftover processes of an ended slot are gone.
ORPHAN_POLL = 0.05


class SlotPool(PoolState):
    """The slots of one :class:`~hyperhive.executors.Process` executor."""

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
        super().__init__(ctx, workers, payload, sink, grace, name, threads)
        self._thread = threading.Thread(target=self._run, name="hyperhive-process", daemon=True)

    # -- called from any thread ---------------------------------------------------

    def start(self) -> None:
        """Start every slot process and the I/O thread."""
        try:
            for i in range(len(self._slots)):
                self._spawn(i)
        except BaseException:
            for slot in self._slots:
                if slot is not None:
                    slot.proc.kill()
                    slot.proc.join(5)
            raise
        self._thread.start()

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Send the task to an idle slot, or queue it."""
        fut: Future[TrialOutcome] = Future()
        fut.set_running_or_notify_cancel()
        with self._lock:
            if self._closing is not None:
                raise RuntimeError("cannot submit trials after shutdown()")
            if task.trial_id in self._queue or task.trial_id in self._running:
                raise ValueError(f"trial {task.trial_id} was already submitted")
            if self._broken is not None:
                self._later.append((fut, self._outcome(task, TrialStatus.FAILED, self._broken)))
            elif self._idle:
                self._dispatch(self._idle.pop(), task, fut)
            else:
                self._queue[task.trial_id] = (task, fut)
            new_deadline = task.trial_id in self._running and task.timeout is not None
        self._flush()
        if new_deadline:  # the I/O thread must wait for it
            self._wake()
        return fut

    def cancel(self, trial_id: int) -> bool:
        """End a queued or running trial with status ``cancelled``."""
        with self._lock:
            if trial_id in self._queue:
                task, fut = self._queue.pop(trial_id)
                self._stops.discard(trial_id)
                reason = "cancelled before it started"
                self._later.append((fut, self._outcome(task, TrialStatus.CANCELLED, reason)))
                done = True
            elif trial_id in self._running:
                slot = self._running[trial_id]
                if slot.ending is None:
                    self._end(slot, TrialStatus.CANCELLED, "cancelled while running")
                done = slot.ending is not None and slot.ending[0] == TrialStatus.CANCELLED
            else:
                done = False
        self._flush()
        self._wake()
        return done

    def request_stop(self, trial_id: int) -> None:
        """Make ``hh.should_stop()`` True inside the trial."""
        with self._lock:
            if trial_id in self._queue:
                self._stops.add(trial_id)
            elif trial_id in self._running:
                try:
                    self._running[trial_id].conn.send_bytes(dumps((STOP, trial_id)))
                except OSError:
                    pass  # the slot is dying; the I/O thread handles its end

    def shutdown(self, wait: bool) -> None:
        """Stop the slots (see :meth:`Process.shutdown`); returns when none is left."""
        if os.getpid() != self._pid:  # a forked copy of the driver owns nothing
            return
        with self._lock:
            if self._closing != "now":
                self._closing = "wait" if wait else "now"
            if self._closing == "now":
                for task, fut in self._queue.values():
                    reason = "the executor was shut down before the trial started"
                    self._later.append((fut, self._outcome(task, TrialStatus.CANCELLED, reason)))
                self._queue.clear()
                for slot in list(self._running.values()):
                    if slot.ending is None:
                        self._end(slot, TrialStatus.CANCELLED, "the executor was shut down")
            self._retire_spare()
        self._flush()
        self._wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()

    def pids(self) -> list[int]:
        """Process ids of the slot processes alive now."""
        with self._lock:
            return [s.pid for s in self._slots if s is not None]

    # -- the I/O thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closing is not None and not self._orphans and not any(self._slots):
                        break
                    objs: list[Any] = [self._wake_r, *self._owner]
                    timeout = self._next_timer()
                ready = wait(objs, timeout)
                for obj in ready:  # messages first: a slot may have sent some before it ended
                    if isinstance(obj, Connection):
                        self._drain(obj)
                for obj in ready:
                    if obj == self._wake_r:
                        os.read(self._wake_r, 4096)
                    elif not isinstance(obj, Connection):
                        self._on_exit(obj)
                self._timers()
                self._flush()
        except BaseException:  # noqa: BLE001 - never leave futures hanging
            log.exception("process executor: the I/O thread failed")
            self._abort()
        finally:
            self._flush()
            for fd in (self._wake_r, self._wake_w):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _next_timer(self) -> float | None:
        times = [t for s in self._slots if s is not None for t in (s.deadline, s.kill_at) if t]
        if self._orphans:  # poll leftover process groups until they are empty
            times.append(time.monotonic() + ORPHAN_POLL)
        if not times:
            return None
        return max(0.0, min(times) - time.monotonic())

    def _drain(self, conn: Connection) -> None:
        slot = self._owner.get(conn)
        if slot is None:
            return
        try:
            for _ in range(256):
                self._on_message(slot, loads(conn.recv_bytes()))
                if not conn.poll():
                    break
        except (EOFError, OSError):
            with self._lock:
                self._owner.pop(conn, None)
                slot.conn_open = False

    def _on_message(self, slot: SlotState, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == REPORT:
            try:
                self._sink(*msg[1:])
            except Exception:  # noqa: BLE001 - a bad sink must not stop the executor
                log.exception("process executor: the report sink failed")
            return
        resolved = None
        with self._lock:
            if kind == DONE:
                outcome = outcome_from_wire(msg[1:])
                if outcome.started is not None and outcome.finished is not None:
                    self.waits.duration(outcome.finished - outcome.started)
                # when the driver ends a trial (timeout, cancel), that wins
                if slot.ending is None and slot.task and slot.task.trial_id == outcome.trial_id:
                    cleared = self._clear_trial(slot)
                    if cleared is not None:
                        resolved = (cleared[1], outcome)
                    self._next(slot)
            elif kind == HELLO:
                _, pid, pgid, _load_error = msg
                slot.pid, slot.group, slot.ready = pid, pgid == pid, True
                self._start_failures = 0
                self._next(slot)
        if resolved is not None:
            resolved[0].set_result(resolved[1])

    def _on_exit(self, sentinel: int) -> None:
        slot = self._owner.get(sentinel)
        if slot is None:
            return
        if slot.conn_open:
            self._drain(slot.conn)  # what the slot sent before it ended
        slot.proc.join(1.0)
        code = slot.proc.exitcode
        with self._lock:
            self._owner.pop(sentinel, None)
            self._owner.pop(slot.conn, None)
            slot.conn.close()
            self._slots[slot.index] = None
            if slot in self._idle:
                self._idle.remove(slot)
            cleared = self._clear_trial(slot)
            if cleared is not None:
                task, fut = cleared
                if slot.ending is not None:
                    outcome = self._outcome(task, *slot.ending, slot=slot)
                else:
                    reason = (
                        f"worker {self._name}-{slot.index} (pid {slot.pid}) "
                        f"{describe_exit(code)} while running the trial"
                    )
                    outcome = self._outcome(task, TrialStatus.LOST, reason, slot=slot)
                self._later.append((fut, outcome))
            if slot.group and group_alive(slot.pid):  # leftovers: SIGTERM, then SIGKILL
                if not slot.term_sent:
                    send_signal(slot.pid, signal.SIGTERM, True)
                kill_at = slot.kill_at or time.monotonic() + self._grace
                self._orphans.append((slot.pid, kill_at))
            try:
                slot.proc.close()
            except ValueError:
                pass
            if not slot.ready and not slot.exiting:
                self._start_failures += 1
                if self._start_failures >= MAX_START_FAILURES and self._broken is None:
                    self._break(
                        f"worker processes end before they start (the last one "
                        f"{describe_exit(code)}); see their stderr. A script that uses the "
                        "process executor needs an `if __name__ == '__main__':` guard"
                    )
            respawn = self._closing is None or (self._closing == "wait" and bool(self._queue))
            respawn = respawn and self._broken is None
        self._flush()  # the trial's outcome first, then the new slot
        if respawn:
            try:
                self._spawn(slot.index)
            except Exception as exc:  # noqa: BLE001
                with self._lock:
                    self._break(f"cannot start a worker process: {exc!r}")

    def _timers(self) -> None:
        now = time.monotonic()
        with self._lock:
            for slot in self._slots:
                if slot is None:
                    continue
                if slot.deadline is not None and now >= slot.deadline:
                    timeout = slot.task.timeout if slot.task is not None else None
                    reason = (
                        f"ran past trial_timeout={timeout} s; its process group was ended "
                        f"(SIGTERM, then SIGKILL after {self._grace} s)"
                    )
                    self._end(slot, TrialStatus.TIMEOUT, reason)
                if slot.kill_at is not None and now >= slot.kill_at:
                    slot.kill_at = None
                    send_signal(slot.pid, SIGKILL, slot.group)
            orphans, self._orphans = self._orphans, []
            for pgid, kill_at in orphans:
                if not group_alive(pgid):
                    continue
                if now >= kill_at:
                    send_signal(pgid, SIGKILL, True)
                else:
                    self._orphans.append((pgid, kill_at))

    def _abort(self) -> None:
        """Last resort after an internal error: kill every slot and resolve every future."""
        with self._lock:
            self._broken = self._broken or "the process executor failed (see the log)"
            self._closing = "now"
            slots = [s for s in self._slots if s is not None]
            for slot in slots:
                send_signal(slot.pid, SIGKILL, slot.group)
                cleared = self._clear_trial(slot)
                if cleared is not None:
                    outcome = self._outcome(cleared[0], TrialStatus.LOST, self._broken, slot)
                    self._later.append((cleared[1], outcome))
            self._break(self._broken)
            self._slots = [None] * len(self._slots)
            self._owner.clear()
        for slot in slots:
            slot.proc.join(1.0)
