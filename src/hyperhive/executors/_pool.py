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
from hyperhive.executors._protocol import Msg, dumps, loads, outcome_from_wire
from hyperhive.executors._state import PoolState
from hyperhive.executors.base import ReportSink, TrialOutcome, TrialTask
from hyperhive.trial import TrialStatus

__all__ = ["SlotPool"]

log = logging.getLogger("hyperhive.executors")

#: Slots that end before saying hello this many times in a row break the executor.
MAX_START_FAILURES = 3
#: Seconds between checks that the leftover processes of an ended slot are gone.
ORPHAN_POLL = 0.05


class SlotPool:
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
        #: Slots, queue and running trials; every transition goes through it.
        self.state = PoolState(ctx, workers, payload, sink, grace, name, threads)
        #: Waits between trials and trial durations (the ``prefetch`` rule).
        self.waits = self.state.waits
        self._thread = threading.Thread(target=self._run, name="hyperhive-process", daemon=True)

    # -- called from any thread ---------------------------------------------------

    def start(self) -> None:
        """Start every slot process and the I/O thread."""
        try:
            for i in range(len(self.state.slots)):
                self.state.spawn(i)
        except BaseException:
            for slot in self.state.slots:
                if slot is not None:
                    slot.proc.kill()
                    slot.proc.join(5)
            raise
        self._thread.start()

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Send the task to an idle slot, or queue it."""
        fut: Future[TrialOutcome] = Future()
        fut.set_running_or_notify_cancel()
        with self.state.lock:
            if self.state.closing is not None:
                raise RuntimeError("cannot submit trials after shutdown()")
            if task.trial_id in self.state.queue or task.trial_id in self.state.running:
                raise ValueError(f"trial {task.trial_id} was already submitted")
            if self.state.broken is not None:
                self.state.later.append(
                    (fut, self.state.outcome(task, TrialStatus.FAILED, self.state.broken))
                )
            elif self.state.idle:
                self.state.dispatch(self.state.idle.pop(), task, fut)
            else:
                self.state.queue[task.trial_id] = (task, fut)
            new_deadline = task.trial_id in self.state.running and task.timeout is not None
        self.state.flush()
        if new_deadline:  # the I/O thread must wait for it
            self.state.wake()
        return fut

    def cancel(self, trial_id: int) -> bool:
        """End a queued or running trial with status ``cancelled``."""
        with self.state.lock:
            if trial_id in self.state.queue:
                task, fut = self.state.queue.pop(trial_id)
                self.state.stops.discard(trial_id)
                reason = "cancelled before it started"
                self.state.later.append(
                    (fut, self.state.outcome(task, TrialStatus.CANCELLED, reason))
                )
                done = True
            elif trial_id in self.state.running:
                slot = self.state.running[trial_id]
                if slot.ending is None:
                    self.state.end(slot, TrialStatus.CANCELLED, "cancelled while running")
                done = slot.ending is not None and slot.ending[0] == TrialStatus.CANCELLED
            else:
                done = False
        self.state.flush()
        self.state.wake()
        return done

    def request_stop(self, trial_id: int) -> None:
        """Make ``hh.should_stop()`` True inside the trial."""
        with self.state.lock:
            if trial_id in self.state.queue:
                self.state.stops.add(trial_id)
            elif trial_id in self.state.running:
                try:
                    self.state.running[trial_id].conn.send_bytes(dumps(Msg.STOP, trial_id))
                except OSError:
                    pass  # the slot is dying; the I/O thread handles its end

    def shutdown(self, wait: bool) -> None:
        """Stop the slots (see :meth:`Process.shutdown`); returns when none is left."""
        if os.getpid() != self.state.pid:  # a forked copy of the driver owns nothing
            return
        with self.state.lock:
            if self.state.closing != "now":
                self.state.closing = "wait" if wait else "now"
            if self.state.closing == "now":
                for task, fut in self.state.queue.values():
                    reason = "the executor was shut down before the trial started"
                    self.state.later.append(
                        (fut, self.state.outcome(task, TrialStatus.CANCELLED, reason))
                    )
                self.state.queue.clear()
                for slot in list(self.state.running.values()):
                    if slot.ending is None:
                        self.state.end(slot, TrialStatus.CANCELLED, "the executor was shut down")
            self.state.retire_spare()
        self.state.flush()
        self.state.wake()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()

    def pids(self) -> list[int]:
        """Process ids of the slot processes alive now."""
        with self.state.lock:
            return [s.pid for s in self.state.slots if s is not None]

    # -- the I/O thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                with self.state.lock:
                    if (
                        self.state.closing is not None
                        and not self.state.orphans
                        and not any(self.state.slots)
                    ):
                        break
                    objs: list[Any] = [self.state.wake_r, *self.state.owner]
                    timeout = self._next_timer()
                ready = wait(objs, timeout)
                for obj in ready:  # messages first: a slot may have sent some before it ended
                    if isinstance(obj, Connection):
                        self._drain(obj)
                for obj in ready:
                    if obj == self.state.wake_r:
                        os.read(self.state.wake_r, 4096)
                    elif isinstance(obj, int):  # a process sentinel
                        self._on_exit(obj)
                self._timers()
                self.state.flush()
        except BaseException:  # noqa: BLE001 - never leave futures hanging
            log.exception("process executor: the I/O thread failed")
            self._abort()
        finally:
            self.state.flush()
            for fd in (self.state.wake_r, self.state.wake_w):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _next_timer(self) -> float | None:
        times = [t for s in self.state.slots if s is not None for t in (s.deadline, s.kill_at) if t]
        if self.state.orphans:  # poll leftover process groups until they are empty
            times.append(time.monotonic() + ORPHAN_POLL)
        if not times:
            return None
        return max(0.0, min(times) - time.monotonic())

    def _drain(self, conn: Connection) -> None:
        slot = self.state.owner.get(conn)
        if slot is None:
            return
        try:
            for _ in range(256):
                self._on_message(slot, loads(conn.recv_bytes()))
                if not conn.poll():
                    break
        except (EOFError, OSError):
            with self.state.lock:
                self.state.owner.pop(conn, None)
                slot.conn_open = False

    def _on_message(self, slot: SlotState, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == Msg.REPORT:
            _, trial_id, _seq, step, value, t = msg
            try:
                self.state.sink(trial_id, step, value, t)
            except Exception:  # noqa: BLE001 - a bad sink must not stop the executor
                log.exception("process executor: the report sink failed")
            return
        resolved = None
        with self.state.lock:
            if kind == Msg.DONE:
                outcome = outcome_from_wire(msg[1])
                if outcome.started is not None and outcome.finished is not None:
                    self.state.waits.duration(outcome.finished - outcome.started)
                # when the driver ends a trial (timeout, cancel), that wins
                if slot.ending is None and slot.task and slot.task.trial_id == outcome.trial_id:
                    cleared = self.state.clear_trial(slot)
                    if cleared is not None:
                        resolved = (cleared[1], outcome)
                    self.state.next(slot)
            elif kind == Msg.HELLO:
                _, pid, pgid = msg
                slot.pid, slot.group, slot.ready = pid, pgid == pid, True
                self.state.start_failures = 0
                self.state.next(slot)
        if resolved is not None:
            resolved[0].set_result(resolved[1])

    def _on_exit(self, sentinel: int) -> None:
        slot = self.state.owner.get(sentinel)
        if slot is None:
            return
        if slot.conn_open:
            self._drain(slot.conn)  # what the slot sent before it ended
        slot.proc.join(1.0)
        code = slot.proc.exitcode
        with self.state.lock:
            self.state.owner.pop(sentinel, None)
            self.state.owner.pop(slot.conn, None)
            slot.conn.close()
            self.state.slots[slot.index] = None
            if slot in self.state.idle:
                self.state.idle.remove(slot)
            cleared = self.state.clear_trial(slot)
            if cleared is not None:
                task, fut = cleared
                if slot.ending is not None:
                    outcome = self.state.outcome(task, *slot.ending, slot=slot)
                else:
                    reason = (
                        f"worker {self.state.name}-{slot.index} (pid {slot.pid}) "
                        f"{describe_exit(code)} while running the trial"
                    )
                    outcome = self.state.outcome(task, TrialStatus.LOST, reason, slot=slot)
                self.state.later.append((fut, outcome))
            if slot.group and group_alive(slot.pid):  # leftovers: SIGTERM, then SIGKILL
                if not slot.term_sent:
                    send_signal(slot.pid, signal.SIGTERM, True)
                kill_at = slot.kill_at or time.monotonic() + self.state.grace
                self.state.orphans.append((slot.pid, kill_at))
            try:
                slot.proc.close()
            except ValueError:
                pass
            if not slot.ready and not slot.exiting:
                self.state.start_failures += 1
                if self.state.start_failures >= MAX_START_FAILURES and self.state.broken is None:
                    self.state.mark_broken(
                        f"worker processes end before they start (the last one "
                        f"{describe_exit(code)}); see their stderr. A script that uses the "
                        "process executor needs an `if __name__ == '__main__':` guard"
                    )
            respawn = self.state.closing is None or (
                self.state.closing == "wait" and bool(self.state.queue)
            )
            respawn = respawn and self.state.broken is None
        self.state.flush()  # the trial's outcome first, then the new slot
        if respawn:
            try:
                self.state.spawn(slot.index)
            except Exception as exc:  # noqa: BLE001
                with self.state.lock:
                    self.state.mark_broken(f"cannot start a worker process: {exc!r}")

    def _timers(self) -> None:
        now = time.monotonic()
        with self.state.lock:
            for slot in self.state.slots:
                if slot is None:
                    continue
                if slot.deadline is not None and now >= slot.deadline:
                    timeout = slot.task.timeout if slot.task is not None else None
                    reason = (
                        f"ran past trial_timeout={timeout} s; its process group was ended "
                        f"(SIGTERM, then SIGKILL after {self.state.grace} s)"
                    )
                    self.state.end(slot, TrialStatus.TIMEOUT, reason)
                if slot.kill_at is not None and now >= slot.kill_at:
                    slot.kill_at = None
                    send_signal(slot.pid, SIGKILL, slot.group)
            orphans, self.state.orphans = self.state.orphans, []
            for pgid, kill_at in orphans:
                if not group_alive(pgid):
                    continue
                if now >= kill_at:
                    send_signal(pgid, SIGKILL, True)
                else:
                    self.state.orphans.append((pgid, kill_at))

    def _abort(self) -> None:
        """Last resort after an internal error: kill every slot and resolve every future."""
        with self.state.lock:
            self.state.broken = self.state.broken or "the process executor failed (see the log)"
            self.state.closing = "now"
            slots = [s for s in self.state.slots if s is not None]
            for slot in slots:
                send_signal(slot.pid, SIGKILL, slot.group)
                cleared = self.state.clear_trial(slot)
                if cleared is not None:
                    outcome = self.state.outcome(
                        cleared[0], TrialStatus.LOST, self.state.broken, slot
                    )
                    self.state.later.append((cleared[1], outcome))
            self.state.mark_broken(self.state.broken)
            self.state.slots = [None] * len(self.state.slots)
            self.state.owner.clear()
        for slot in slots:
            slot.proc.join(1.0)
