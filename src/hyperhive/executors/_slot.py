"""Worker side of the process executor: the loop each slot process runs.

A slot is one long-lived process. It makes itself a process-group leader, loads
the objective once, says hello, then runs one trial per task message and sends
one message per result. The wire format is a tuple pickled with :mod:`pickle`
(one ``send_bytes`` per message):

driver to slot
    ``(TASK, trial_id, config, seed, artifact_dir, capture_output, stop)``,
    ``(STOP, trial_id)``, ``(EXIT,)``
slot to driver
    ``(HELLO, pid, pgid, load_error)``, ``(REPORT, trial_id, step, value, time)``,
    ``(DONE, *outcome_to_wire(outcome))``

This module is kept light: it is imported in every slot process (and preloaded in
the forkserver).
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import cloudpickle  # noqa: F401 - objectives are unpickled with it: load it with this module

from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.executors.runner import HOST, run_trial
from hyperhive.trial import TrialStatus

__all__ = [
    "DONE",
    "EXIT",
    "HELLO",
    "REPORT",
    "STOP",
    "TASK",
    "SlotChannel",
    "outcome_from_wire",
    "outcome_to_wire",
    "slot_main",
]

TASK, STOP, EXIT = 1, 2, 3
HELLO, REPORT, DONE = 11, 12, 13

_PROTOCOL = pickle.HIGHEST_PROTOCOL


def dumps(msg: tuple[Any, ...]) -> bytes:
    """Encode one message."""
    return pickle.dumps(msg, _PROTOCOL)


loads = pickle.loads


def outcome_to_wire(o: TrialOutcome) -> tuple[Any, ...]:
    """An outcome as a tuple of plain values (much quicker to pickle than the dataclass)."""
    return (
        o.trial_id, o.status.value, o.objective, o.constraints, o.metadata, o.reason,
        o.traceback, o.started, o.finished, o.worker, o.host,
    )  # fmt: skip


def outcome_from_wire(fields: tuple[Any, ...]) -> TrialOutcome:
    """Inverse of :func:`outcome_to_wire`."""
    tid, status, objective, constraints, metadata, reason, trace, started, finished, *rest = fields
    return TrialOutcome(
        tid, TrialStatus(status), objective, constraints, metadata, reason, trace, started,
        finished, *rest,
    )  # fmt: skip


class SlotChannel:
    """The worker-side :class:`~hyperhive.trial.Channel` of a slot process.

    Reports are sent down the slot's pipe at once. Stop requests arrive on the same
    pipe; :meth:`stop_requested` reads whatever is waiting without blocking.
    Messages that are not for the running trial are kept for the slot loop.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._poller = select.poll() if hasattr(select, "poll") else None
        if self._poller is not None:
            self._poller.register(conn.fileno(), select.POLLIN)
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._backlog: collections.deque[tuple[Any, ...]] = collections.deque()
        self._trial: int | None = None
        self._stop = False

    def begin(self, trial_id: int, stop: bool) -> None:
        """Start serving the trial ``trial_id`` (``stop``: already asked to stop)."""
        self._trial = trial_id
        self._stop = stop

    def end(self) -> None:
        """The trial is over: stop requests for it are now stale."""
        self._trial = None
        self._stop = False

    def send(self, msg: tuple[Any, ...]) -> None:
        """Send one message to the driver (thread-safe)."""
        data = dumps(msg)
        with self._send_lock:
            self._conn.send_bytes(data)

    def send_report(self, trial_id: int, step: int | None, value: Any, time: float) -> None:
        """Send an ``hh.report`` value to the driver."""
        self.send((REPORT, trial_id, step, value, time))

    def stop_requested(self, trial_id: int) -> bool:
        """True once the driver asked ``trial_id`` to stop (never blocks)."""
        if not self._stop:
            with self._recv_lock:
                try:
                    while self._waiting():
                        self._take(loads(self._conn.recv_bytes()))
                except (EOFError, OSError):
                    pass
        return self._stop and trial_id == self._trial

    def _waiting(self) -> bool:
        # select.poll is much cheaper than Connection.poll, which builds a selector
        if self._poller is not None:
            return bool(self._poller.poll(0))
        return self._conn.poll(0)

    def _take(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == STOP:
            if msg[1] == self._trial:
                self._stop = True
            return
        self._backlog.append(msg)

    def next_message(self) -> tuple[Any, ...]:
        """The next message for the slot loop (blocks); raises EOFError when the driver is gone."""
        with self._recv_lock:
            if self._backlog:
                return self._backlog.popleft()
            return loads(self._conn.recv_bytes())


def _ignore_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C belongs to the driver.

    A handler rather than SIG_IGN, so that programs the objective runs keep the default.
    """


def _watch_parent() -> None:
    """End this slot's process group if the driver dies (no orphans after a crash)."""
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is None:
        return

    def watch() -> None:
        try:
            multiprocessing.connection.wait([sentinel])
        except OSError:
            return
        try:
            if os.getpgid(0) == os.getpid():
                os.killpg(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)

    threading.Thread(target=watch, name="hyperhive-parent-watch", daemon=True).start()


def _failed(trial_id: int, worker: str, reason: str, trace: str | None = None) -> TrialOutcome:
    now = time.time()
    return TrialOutcome(
        trial_id=trial_id,
        status=TrialStatus.FAILED,
        reason=reason,
        traceback=trace,
        started=now,
        finished=now,
        worker=worker,
        host=HOST,
    )


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
    """Body of slot process number ``index``: serve tasks until told to exit.

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
    _watch_parent()
    worker = f"process-{index}"
    objective = None
    load_error: str | None = None
    load_trace: str | None = None
    payload = box.pop()
    try:
        objective = pickle.loads(payload)
    except BaseException as exc:  # noqa: BLE001 - reported to the driver
        load_error = (
            f"the objective could not be loaded in the worker process: {type(exc).__name__}: "
            f"{exc} (is it defined in a module the workers can import?)"
        )
        load_trace = traceback.format_exc()
    del payload
    pgid = os.getpgid(0) if hasattr(os, "getpgid") else None
    channel = SlotChannel(conn)
    channel.send((HELLO, os.getpid(), pgid, load_error))
    while True:
        try:
            msg = channel.next_message()
        except (EOFError, OSError):
            break
        if msg[0] == EXIT:
            break
        if msg[0] != TASK:
            continue
        _, trial_id, config, seed, artifact_dir, capture_output, stop = msg
        channel.begin(trial_id, stop)
        if objective is None:
            outcome = _failed(trial_id, worker, load_error or "no objective", load_trace)
        else:
            # The driver enforces the timeout by ending the slot; no timeout here.
            task = TrialTask(trial_id, config, seed, artifact_dir, None, capture_output)
            outcome = run_trial(
                objective, task, channel, worker=worker, capture="fd", interrupt=False
            )
        channel.end()
        try:
            channel.send((DONE, *outcome_to_wire(outcome)))
        except (EOFError, OSError):
            break
        except Exception as exc:  # noqa: BLE001 - e.g. metadata that does not pickle
            failed = _failed(trial_id, worker, f"could not send the outcome back: {exc!r}")
            channel.send((DONE, *outcome_to_wire(failed)))
