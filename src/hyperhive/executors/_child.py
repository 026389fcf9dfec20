"""The killable child host: the program of every child process that runs trials.

Two kinds of parents start it, and both speak :mod:`hyperhive.executors._protocol`:

* the process executor (:mod:`hyperhive.executors._pool`) starts one per slot with
  :mod:`multiprocessing` (forkserver by default) and hands it the objective at once
  (:func:`slot_main`);
* a Dask, Ray or MPI worker starts one per worker slot with :func:`subprocess.Popen`
  when a trial must be killable (:mod:`hyperhive.executors._isolated`, entry point
  :func:`isolated_main`), and sends the objective with ``LOAD``.

The child leads a process group of its own (ending a trial ends the group: SIGTERM,
then SIGKILL after the grace period, then the parent starts a new child), ignores
SIGINT (Ctrl-C belongs to the driver), ends its group when its parent dies, and runs
trials one at a time (:func:`serve`). The parent enforces ``trial_timeout``.

This module is kept light: it is imported in every child (and preloaded in the
forkserver).
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle  # noqa: F401 - objectives are unpickled with it: load it with this module

from hyperhive.executors._protocol import (
    Msg,
    dumps,
    failed_outcome,
    loads,
    outcome_to_wire,
    task_from_wire,
)
from hyperhive.executors.channel import WorkerChannel
from hyperhive.executors.runner import run_trial

__all__ = ["PipeControl", "isolated_main", "serve", "slot_main"]

SIGKILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)


class PipeControl:
    """The child's end of its pipe: sends messages, and is the running trial's
    :class:`~hyperhive.executors.channel.Control`.

    Stop requests arrive on the pipe; :meth:`stop_requested` reads whatever waits
    without blocking. Messages that are not for the running trial are kept for
    :meth:`next_message`.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._poller = select.poll() if hasattr(select, "poll") else None
        if self._poller is not None:
            self._poller.register(conn.fileno(), select.POLLIN)
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._backlog: collections.deque[tuple[Any, ...]] = collections.deque()
        self._trial: int | None = None
        self._stop = False

    def begin(self, trial_id: int, stop: bool) -> None:
        """Serve the trial ``trial_id`` (``stop``: already asked to stop)."""
        self._trial, self._stop = trial_id, stop

    def end(self) -> None:
        """The trial is over: stop requests for it are now stale."""
        self._trial, self._stop = None, False

    def send(self, kind: Msg, *fields: Any) -> None:
        """Send one message to the parent (thread-safe)."""
        data = dumps(kind, *fields)
        with self._send_lock:
            self.conn.send_bytes(data)

    def report(self, trial_id: int, seq: int, step: int | None, value: Any, time: float) -> None:
        """A :data:`~hyperhive.executors.channel.Forward`: one report up the pipe."""
        self.send(Msg.REPORT, trial_id, seq, step, value, time)

    def stop_requested(self) -> bool:
        """True once the parent asked the running trial to stop (never blocks)."""
        if not self._stop:
            with self._recv_lock:
                try:
                    while self._waiting():
                        self._take(loads(self.conn.recv_bytes()))
                except (EOFError, OSError):
                    pass
        return self._stop

    def kill_requested(self) -> bool:
        """Always False: the parent kills the process group itself."""
        return False

    def _waiting(self) -> bool:
        # select.poll is much cheaper than Connection.poll, which builds a selector
        if self._poller is not None:
            return bool(self._poller.poll(0))
        return self.conn.poll(0)

    def _take(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == Msg.STOP:
            if msg[1] == self._trial:
                self._stop = True
            return
        self._backlog.append(msg)

    def next_message(self, timeout: float | None = None) -> tuple[Any, ...] | None:
        """The next message (None after ``timeout`` seconds without one).

        Raises:
            EOFError: when the parent is gone.
        """
        with self._recv_lock:
            if self._backlog:
                return self._backlog.popleft()
            if timeout is not None and not self.conn.poll(timeout):
                return None
            msg: tuple[Any, ...] = loads(self.conn.recv_bytes())
            return msg


class _Objective:
    """The objective this child runs, or why it could not be loaded."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.fn: Callable[[dict[str, Any]], Any] | None = None
        self.error: tuple[str, str] = ("no objective was loaded", "")

    def load(self, payload: bytes) -> None:
        try:
            self.fn = pickle.loads(payload)
        except BaseException as exc:  # noqa: BLE001 - reported with each trial
            self.fn = None
            self.error = (
                f"the objective could not be loaded in {self.where}: {type(exc).__name__}: "
                f"{exc} (is it defined in a module the workers can import?)",
                traceback.format_exc(),
            )


def serve(
    control: PipeControl, worker: str, objective: _Objective, idle_exit: float | None = None
) -> None:
    """Say hello, then run one trial per ``TASK`` until ``EXIT``, EOF or ``idle_exit``
    seconds without a message."""
    pgid = os.getpgid(0) if hasattr(os, "getpgid") else None
    control.send(Msg.HELLO, os.getpid(), pgid)
    while True:
        try:
            msg = control.next_message(idle_exit)
        except (EOFError, OSError):
            return
        if msg is None or msg[0] == Msg.EXIT:
            return
        if msg[0] == Msg.LOAD:
            _, _key, payload, path = msg
            for entry in path:
                if entry not in sys.path:
                    sys.path.append(entry)
            objective.load(payload)
            del payload, msg
        elif msg[0] == Msg.TASK:
            _, task_wire, stop, ack = msg
            task = task_from_wire(task_wire)
            task.timeout = None  # the parent enforces it by ending this process group
            control.begin(task.trial_id, stop)
            if ack:
                control.send(Msg.ACK, task.trial_id)
            if objective.fn is None:
                outcome = failed_outcome(task.trial_id, worker, *objective.error)
            else:
                channel = WorkerChannel(control, control.report, keep=False)
                outcome = run_trial(
                    objective.fn, task, channel, worker=worker, capture="fd", interrupt=False
                )
            control.end()
            try:
                control.send(Msg.DONE, outcome_to_wire(outcome))
            except (EOFError, OSError):
                return
            except Exception as exc:  # noqa: BLE001 - e.g. metadata that does not pickle
                reason = f"could not send the outcome back: {exc!r}"
                control.send(
                    Msg.DONE, outcome_to_wire(failed_outcome(task.trial_id, worker, reason))
                )


def _ignore_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C belongs to the driver.

    A handler rather than SIG_IGN, so that programs the objective runs keep the default.
    """


def _on_death(wait: Callable[[], None], name: str) -> None:
    """End this child's process group once ``wait`` returns (the parent is gone)."""

    def watch() -> None:
        try:
            wait()
        except OSError:
            pass
        try:
            if os.getpgid(0) == os.getpid():
                os.killpg(os.getpid(), SIGKILL)
        finally:
            os._exit(1)

    threading.Thread(target=watch, name=name, daemon=True).start()


def _restore_threads(threads: dict[str, int]) -> None:
    """Undo thread-pool limits inherited through fork (the driver may run under
    ``threadpoolctl`` limits; trials get the libraries' own defaults)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    except Exception:  # noqa: BLE001 - best effort
        pass


def slot_main(
    index: int, conn: Connection, box: list[bytes], threads: dict[str, int] | None = None
) -> None:
    """Body of slot process number ``index`` of a process executor.

    Args:
        index: the slot number (the worker is named ``process-<index>``).
        conn: this slot's end of its duplex pipe to the driver.
        box: a one-item list holding the objective pickled with cloudpickle; it is
            emptied here so that the bytes are freed once the objective is loaded.
        threads: thread counts of the native thread pools to restore (fork only).
    """
    if hasattr(os, "setsid"):
        try:
            os.setsid()
        except OSError:
            pass
    signal.signal(signal.SIGINT, _ignore_sigint)
    os.environ["HYPERHIVE_WORKER"] = str(index)
    if threads:
        _restore_threads(threads)
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is not None:

        def parent_gone() -> None:
            multiprocessing.connection.wait([sentinel])

        _on_death(parent_gone, "hyperhive-parent-watch")
    objective = _Objective("the worker process")
    objective.load(box.pop())
    serve(PipeControl(conn), f"process-{index}", objective)


#: Seconds an isolated child waits for a task before it exits on its own.
IDLE_EXIT = 60.0


def isolated_main(fd: int, lifeline: int) -> None:
    """Body of the killable child of a cluster worker (started with ``Popen``).

    Args:
        fd: this child's end of the socket pair to the worker.
        lifeline: a pipe whose write end only the worker holds: EOF means it died.
    """
    signal.signal(signal.SIGINT, _ignore_sigint)

    def lifeline_closed() -> None:
        while os.read(lifeline, 1):
            pass

    _on_death(lifeline_closed, "hyperhive-lifeline")
    worker = os.environ.get("HYPERHIVE_WORKER", "child")
    serve(PipeControl(Connection(fd)), worker, _Objective("the trial's child process"), IDLE_EXIT)


if __name__ == "__main__":
    isolated_main(int(sys.argv[1]), int(sys.argv[2]))
