"""Killable trials on remote workers: a child process per worker slot.

Dask threads and MPI ranks cannot be interrupted, so a trial that must be ended
(``trial_timeout``, cancellation) runs in a child process of the worker. The child
is started with :func:`subprocess.Popen` (so it works in daemonic Dask workers and
multithreaded Ray workers), leads a process group of its own, loads the objective
once and is reused for the next trials of the same slot. Ending a trial ends the
group: SIGTERM, then SIGKILL after the grace period; a new child is started for the
next trial. Each child also exits

* when its worker dies (it watches a "lifeline" pipe whose other end only the
  worker holds, and ends its own process group on EOF), and
* after :data:`IDLE_EXIT` seconds without a task.

Wire: pickled tuples over a socket pair (:class:`multiprocessing.connection.Connection`).

worker to child
    ``(LOAD, key, payload, sys_path)``, ``(TASK, task_wire)``, ``(STOP, trial_id)``
child to worker
    ``(ACK, trial_id)`` (objective loaded, trial starting),
    ``(REPORT, trial_id, step, value, time)``, ``(DONE, outcome_wire)``
"""

from __future__ import annotations

import collections
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from hyperhive.executors._procs import SIGKILL, describe_exit, group_alive, send_signal
from hyperhive.executors._wire import (
    Control,
    WorkerChannel,
    failed_outcome,
    outcome_from_wire,
    outcome_to_wire,
    task_from_wire,
    task_to_wire,
)
from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.executors.runner import HOST, run_trial
from hyperhive.trial import TrialStatus

__all__ = ["ChildHost", "IDLE_EXIT", "host_for_thread", "release_hosts"]

LOAD, TASK, STOP = 1, 2, 3
ACK, REPORT, DONE = 11, 12, 13

#: Seconds a child waits for a task before it exits on its own.
IDLE_EXIT = 60.0
#: Seconds between checks of the stop/kill flags while a trial runs.
POLL = 0.05
#: Seconds a child may take to start and load the objective (on top of trial_timeout).
LOAD_ALLOWANCE = 120.0

_local = threading.local()
_hosts: list[ChildHost] = []
_hosts_lock = threading.Lock()


def host_for_thread() -> ChildHost:
    """The child host of the calling thread (one per worker slot)."""
    host = getattr(_local, "host", None)
    if host is None:
        host = _local.host = ChildHost()
        with _hosts_lock:
            _hosts.append(host)
    return host


def release_hosts() -> int:
    """End the idle children of this process; returns how many were ended."""
    with _hosts_lock:
        hosts = list(_hosts)
    return sum(host.release() for host in hosts)


class _Resend(Exception):
    """The child died before it took the task: start a new one and send it again."""


class ChildHost:
    """One persistent, killable child process that runs trials for one worker slot."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self._lifeline: int | None = None
        self.key: str | None = None
        self.env: dict[str, str] | None = None
        self.busy = threading.Lock()

    # -- the child's life -------------------------------------------------------------

    def _spawn(self, env: dict[str, str] | None, worker: str) -> None:
        parent, child = socket.socketpair()
        life_r, life_w = os.pipe()
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["HYPERHIVE_WORKER"] = worker
        fd = child.fileno()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hyperhive.executors._isolated", str(fd), str(life_r)],
                pass_fds=(fd, life_r),
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                env=full_env,
            )
        finally:
            child.close()
            os.close(life_r)
        self.conn = Connection(parent.detach())
        self._lifeline = life_w
        self.key, self.env = None, dict(env or {})

    def _reap(self) -> int | None:
        """Forget a child that has ended (or end it); returns its exit code."""
        code = None
        if self.proc is not None:
            pid = self.proc.pid
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                send_signal(pid, SIGKILL, True)
                code = self.proc.wait()
            _kill_leftovers(pid)
        if self.conn is not None:
            self.conn.close()
        if self._lifeline is not None:
            os.close(self._lifeline)
        self.proc = self.conn = self._lifeline = None
        self.key = None
        return code

    def _end_group(self, grace: float) -> None:
        """SIGTERM to the child's process group, then SIGKILL after ``grace`` seconds."""
        if self.proc is None:
            return
        pid = self.proc.pid
        if grace > 0:
            send_signal(pid, signal.SIGTERM, True)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        send_signal(pid, SIGKILL, True)
        self._reap()

    def release(self) -> bool:
        """End the child if it is idle; True when one was ended."""
        if not self.busy.acquire(blocking=False):
            return False
        try:
            if self.proc is None:
                return False
            self._end_group(0.0)
            return True
        finally:
            self.busy.release()

    # -- running one trial --------------------------------------------------------------

    def run(
        self,
        key: str,
        fetch: Callable[[], bytes],
        task: TrialTask,
        channel: WorkerChannel,
        control: Control,
        *,
        grace: float,
        worker: str,
        env: dict[str, str] | None = None,
    ) -> TrialOutcome:
        """Run ``task`` in the child, enforcing ``task.timeout`` and the kill flag."""
        with self.busy:
            for _ in range(2):
                if self.proc is not None and (
                    self.proc.poll() is not None or (env or {}) != self.env
                ):
                    self._end_group(0.0)
                if self.proc is None:
                    self._spawn(env, worker)
                try:
                    return self._run_once(key, fetch, task, channel, control, grace, worker)
                except _Resend:
                    self._end_group(0.0)
            return failed_outcome(
                task.trial_id, worker, "the trial's child process ended twice before it started"
            )

    def _send(self, msg: tuple[Any, ...]) -> None:
        if self.conn is None:
            raise _Resend
        try:
            self.conn.send_bytes(pickle.dumps(msg, pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            raise _Resend from exc

    def _run_once(
        self,
        key: str,
        fetch: Callable[[], bytes],
        task: TrialTask,
        channel: WorkerChannel,
        control: Control,
        grace: float,
        worker: str,
    ) -> TrialOutcome:
        if self.key != key:
            self._send((LOAD, key, fetch(), list(sys.path)))
            self.key = key
        self._send((TASK, task_to_wire(task)))
        started = time.time()
        limit = task.timeout
        deadline = time.monotonic() + (limit or 0.0) + LOAD_ALLOWANCE if limit else None
        acked = stop_sent = False
        conn, proc = self.conn, self.proc
        if conn is None or proc is None:  # pragma: no cover - set by _spawn
            raise _Resend

        def ended(status: TrialStatus, reason: str) -> TrialOutcome:
            self._end_group(grace)
            return TrialOutcome(
                task.trial_id, status, reason=reason, started=started,
                finished=time.time(), worker=worker, host=HOST,
            )  # fmt: skip

        while True:
            if control.kill_requested():
                return ended(TrialStatus.CANCELLED, "cancelled while running")
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                reason = (
                    f"ran past trial_timeout={limit} s; its process group was ended "
                    f"(SIGTERM, then SIGKILL after {grace} s)"
                )
                return ended(TrialStatus.TIMEOUT, reason)
            if not stop_sent and control.stop_requested():
                stop_sent = True
                try:
                    self._send((STOP, task.trial_id))
                except _Resend:
                    pass
            wait = POLL if deadline is None else max(0.0, min(POLL, deadline - now))
            try:
                msg = pickle.loads(conn.recv_bytes()) if conn.poll(wait) else None
            except (EOFError, OSError):
                msg = None
                try:
                    proc.wait(timeout=grace + 1.0)  # EOF: the child is ending
                except subprocess.TimeoutExpired:
                    send_signal(proc.pid, SIGKILL, True)
            if msg is None:
                if proc.poll() is None:
                    continue
                code = self._reap()
                if not acked:
                    raise _Resend
                reason = (
                    f"the trial's child process (pid {proc.pid}) on {worker} "
                    f"{describe_exit(code)} while running the trial"
                )
                return TrialOutcome(
                    task.trial_id, TrialStatus.LOST, reason=reason, started=started,
                    finished=time.time(), worker=worker, host=HOST,
                )  # fmt: skip
            if msg[0] == REPORT:
                channel.send_report(*msg[1:])
            elif msg[0] == ACK:
                acked = True
                started = time.time()
                if limit is not None:
                    deadline = time.monotonic() + limit
            elif msg[0] == DONE:
                outcome = outcome_from_wire(msg[1])
                outcome.worker = worker
                return outcome


def _kill_leftovers(pgid: int) -> None:
    """SIGKILL what is left of a process group (an objective's own children)."""
    end = time.monotonic() + 2.0
    while group_alive(pgid) and time.monotonic() < end:
        send_signal(pgid, SIGKILL, True)
        time.sleep(0.02)


# -- the child process -----------------------------------------------------------------


class _ChildChannel:
    """The child's :class:`~hyperhive.trial.Channel`: reports up the socket, stops down it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.backlog: collections.deque[tuple[Any, ...]] = collections.deque()
        self.trial: int | None = None
        self.stop = False

    def send(self, msg: tuple[Any, ...]) -> None:
        data = pickle.dumps(msg, pickle.HIGHEST_PROTOCOL)
        with self.lock:
            self.conn.send_bytes(data)

    def send_report(self, trial_id: int, step: int | None, value: Any, time: float) -> None:
        self.send((REPORT, trial_id, step, value, time))

    def stop_requested(self, trial_id: int) -> bool:
        while not self.stop and self.conn.poll(0):
            msg = pickle.loads(self.conn.recv_bytes())
            if msg[0] == STOP:
                self.stop = self.stop or msg[1] == self.trial
            else:
                self.backlog.append(msg)
        return self.stop and trial_id == self.trial

    def next_message(self, timeout: float) -> tuple[Any, ...] | None:
        if self.backlog:
            return self.backlog.popleft()
        if not self.conn.poll(timeout):
            return None
        return pickle.loads(self.conn.recv_bytes())


def _ignore_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C belongs to the driver (a handler, so that programs the trial runs keep theirs)."""


def _watch_lifeline(fd: int) -> None:
    def watch() -> None:
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        try:
            os.killpg(os.getpid(), SIGKILL)
        finally:
            os._exit(1)

    threading.Thread(target=watch, name="hyperhive-lifeline", daemon=True).start()


def child_main(fd: int, lifeline: int) -> None:
    """Body of a child process: load objectives and run trials until idle or orphaned."""
    signal.signal(signal.SIGINT, _ignore_sigint)
    _watch_lifeline(lifeline)
    channel = _ChildChannel(Connection(fd))
    worker = os.environ.get("HYPERHIVE_WORKER", "child")
    objective: Any = None
    load_error: tuple[str, str] | None = None
    while True:
        try:
            msg = channel.next_message(IDLE_EXIT)
        except (EOFError, OSError):
            return
        if msg is None:
            return
        if msg[0] == LOAD:
            _, _key, payload, path = msg
            for entry in path:
                if entry not in sys.path:
                    sys.path.append(entry)
            try:
                objective, load_error = pickle.loads(payload), None
            except BaseException as exc:  # noqa: BLE001 - reported with the trial
                objective = None
                load_error = (
                    f"the objective could not be loaded in the trial's child process: "
                    f"{type(exc).__name__}: {exc}",
                    traceback.format_exc(),
                )
            del payload
        elif msg[0] == TASK:
            task = task_from_wire(msg[1])
            channel.trial, channel.stop = task.trial_id, False
            channel.send((ACK, task.trial_id))
            if objective is None:
                reason, trace = load_error or ("no objective was loaded", "")
                outcome = failed_outcome(task.trial_id, worker, reason, trace)
            else:
                task.timeout = None  # the worker enforces it
                outcome = run_trial(
                    objective, task, channel, worker=worker, capture="fd", interrupt=False
                )
            channel.trial = None
            try:
                channel.send((DONE, outcome_to_wire(outcome)))
            except (EOFError, OSError):
                return
            except Exception as exc:  # noqa: BLE001 - e.g. metadata that does not pickle
                failed = failed_outcome(task.trial_id, worker, f"cannot send the outcome: {exc!r}")
                channel.send((DONE, outcome_to_wire(failed)))


if __name__ == "__main__":
    child_main(int(sys.argv[1]), int(sys.argv[2]))
