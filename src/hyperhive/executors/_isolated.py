"""Killable trials on cluster workers: the parent side of a child host per worker slot.

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

The child runs :func:`hyperhive.executors._child.isolated_main` and speaks the one
protocol of :mod:`hyperhive.executors._protocol` over a socket pair
(:class:`multiprocessing.connection.Connection`); each task asks for an ``ACK``, so a
child that dies before it took the task is told apart from one that died running it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from hyperhive.executors._child import IDLE_EXIT
from hyperhive.executors._procs import SIGKILL, describe_exit, group_alive, send_signal
from hyperhive.executors._protocol import (
    Msg,
    dumps,
    failed_outcome,
    loads,
    outcome_from_wire,
    task_to_wire,
)
from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.executors.channel import Control, WorkerChannel
from hyperhive.executors.runner import HOST
from hyperhive.trial import TrialStatus

__all__ = ["IDLE_EXIT", "ChildHost", "host_for_thread", "release_hosts"]

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
                [sys.executable, "-m", "hyperhive.executors._child", str(fd), str(life_r)],
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

    def _send(self, kind: Msg, *fields: Any) -> None:
        if self.conn is None:
            raise _Resend
        try:
            self.conn.send_bytes(dumps(kind, *fields))
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
            self._send(Msg.LOAD, key, fetch(), list(sys.path))
            self.key = key
        self._send(Msg.TASK, task_to_wire(task), False, True)
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
                    self._send(Msg.STOP, task.trial_id)
                except _Resend:
                    pass
            wait = POLL if deadline is None else max(0.0, min(POLL, deadline - now))
            try:
                msg = loads(conn.recv_bytes()) if conn.poll(wait) else None
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
            if msg[0] == Msg.REPORT:
                _, tid, _seq, step, value, t = msg
                channel.send_report(tid, step, value, t)
            elif msg[0] == Msg.ACK:
                acked = True
                started = time.time()
                if limit is not None:
                    deadline = time.monotonic() + limit
            elif msg[0] == Msg.DONE:
                outcome = outcome_from_wire(msg[1])
                outcome.worker = worker
                return outcome


def _kill_leftovers(pgid: int) -> None:
    """SIGKILL what is left of a process group (an objective's own children)."""
    end = time.monotonic() + 2.0
    while group_alive(pgid) and time.monotonic() < end:
        send_signal(pgid, SIGKILL, True)
        time.sleep(0.02)
