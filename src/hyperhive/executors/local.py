"""Executors that run trials in the driver process: :class:`Serial` and :class:`Thread`.

Neither can end a running trial, so ``trial_timeout`` is checked only when the
objective returns (the trial is then marked ``timeout``), and a warning says so
once per executor.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from typing import Any

from hyperhive.executors.base import (
    Executor,
    HyperhiveWarning,
    ReportSink,
    TrialOutcome,
    TrialTask,
    resolved_future,
)
from hyperhive.executors.channel import Flags, WorkerChannel
from hyperhive.executors.runner import HOST, run_trial
from hyperhive.trial import TrialStatus

__all__ = ["Serial", "Thread"]

log = logging.getLogger("hyperhive.executors")


def _as_cancelled(outcome: TrialOutcome, reason: str) -> TrialOutcome:
    """Turn the outcome of a trial that was cancelled while running into ``cancelled``."""
    meta = dict(outcome.metadata)
    meta["late_status"] = str(outcome.status)
    if outcome.objective is not None:
        meta["late_objective"] = outcome.objective
    return TrialOutcome(
        trial_id=outcome.trial_id,
        status=TrialStatus.CANCELLED,
        metadata=meta,
        reason=reason,
        started=outcome.started,
        finished=outcome.finished,
        worker=outcome.worker,
        host=outcome.host,
    )


def _settle(fut: Future[TrialOutcome], outcome: TrialOutcome) -> None:
    """Resolve ``fut`` unless it already is."""
    try:
        fut.set_result(outcome)
    except InvalidStateError:
        pass


class _LocalExecutor(Executor):
    """What :class:`Serial` and :class:`Thread` share."""

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        self._objective: Callable[[dict[str, Any]], Any] | None = None
        self._sink: ReportSink | None = None
        self._flags: dict[int, Flags] = {}  # stop requests of submitted trials
        self._warned = False
        self._closed = False
        self._lock = threading.RLock()
        self._cancelled: set[int] = set()  # running trials that will resolve as cancelled

    def start(self, objective: Callable[[dict[str, Any]], Any], sink: ReportSink) -> None:
        """Bind the objective and the report sink."""
        if self._objective is not None:
            raise RuntimeError("this executor was already started")
        self._objective = objective
        self._sink = sink

    def request_stop(self, trial_id: int) -> None:
        """Make ``hh.should_stop()`` return True inside the trial (also before it starts)."""
        self._flags_of(trial_id).stop = True

    def _flags_of(self, trial_id: int) -> Flags:
        with self._lock:
            return self._flags.setdefault(trial_id, Flags())

    def _forward(self, trial_id: int, seq: int, step: int | None, value: Any, t: float) -> None:
        if self._sink is not None:
            self._sink(trial_id, step, value, t)

    def _check(self, task: TrialTask) -> None:
        if self._objective is None:
            raise RuntimeError("call start(objective, sink) before submit()")
        if self._closed:
            raise RuntimeError("cannot submit trials after shutdown()")
        if task.timeout is not None and not self._warned:
            self._warned = True
            warnings.warn(
                f"the {self.name!r} executor cannot end a running trial: trial_timeout is "
                "checked when the objective returns (late trials are marked 'timeout'); "
                "use executor='process' to enforce it",
                HyperhiveWarning,
                stacklevel=3,
            )

    def _run(self, task: TrialTask, worker: str) -> TrialOutcome:
        if self._objective is None:  # pragma: no cover - guarded
            raise RuntimeError("executor not started")
        channel = WorkerChannel(self._flags_of(task.trial_id), self._forward, keep=False)
        try:
            outcome = run_trial(self._objective, task, channel, worker=worker, capture="proxy")
        finally:
            with self._lock:
                self._flags.pop(task.trial_id, None)
        with self._lock:
            if task.trial_id in self._cancelled:
                self._cancelled.discard(task.trial_id)
                outcome = _as_cancelled(
                    outcome, "cancelled while running; the objective ran to its end"
                )
        return outcome


class Serial(_LocalExecutor):
    """Runs each trial at once, in the thread that calls :meth:`submit`.

    ``submit`` returns an already resolved future. A KeyboardInterrupt raised in
    the objective propagates (Ctrl-C reaches the driver). Output is captured per
    thread into the trial's artifact folder.

    Args:
        workers: must be 1.
    """

    name = "serial"

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        if workers != 1:
            raise ValueError(
                f"the serial executor runs one trial at a time (workers={workers}); "
                "use executor='thread' or 'process' for more"
            )
        self._current: int | None = None

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Run the trial now and return its resolved future."""
        self._check(task)
        with self._lock:
            self._current = task.trial_id
        try:
            outcome = self._run(task, f"{self.name}-0")
        finally:
            with self._lock:
                self._current = None
        return resolved_future(outcome)

    def cancel(self, trial_id: int) -> bool:
        """Mark the running trial (when called from another thread) as cancelled.

        The objective cannot be interrupted: it also sees ``hh.should_stop()`` True
        and its outcome is ``cancelled`` when it returns.
        """
        with self._lock:
            if trial_id != self._current or trial_id in self._cancelled:
                return False
            self._cancelled.add(trial_id)
        self.request_stop(trial_id)
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Refuse further trials."""
        self._closed = True


class Thread(_LocalExecutor):
    """Runs trials in a pool of threads of the driver process.

    A queued trial can be cancelled; a running thread cannot be killed, so
    :meth:`cancel` of a running trial makes ``hh.should_stop()`` True for it and its
    outcome is ``cancelled`` when the objective returns. Output written through
    ``sys.stdout``/``sys.stderr`` is captured per thread (not output of C code or
    child processes).

    Args:
        workers: number of threads.
    """

    name = "thread"

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._next_index = 0
        self._entries: dict[int, tuple[Future[TrialOutcome], Future[TrialOutcome] | None]] = {}

    def start(self, objective: Callable[[dict[str, Any]], Any], sink: ReportSink) -> None:
        """Bind the objective and the sink, and create the thread pool."""
        super().start(objective, sink)
        self._pool = ThreadPoolExecutor(
            max_workers=self.workers,
            thread_name_prefix="hyperhive-trial",
            initializer=self._name_thread,
        )

    def _name_thread(self) -> None:
        with self._lock:
            self._local.name = f"{self.name}-{self._next_index}"
            self._next_index += 1

    def _work(self, task: TrialTask) -> TrialOutcome:
        return self._run(task, getattr(self._local, "name", f"{self.name}-?"))

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Queue the trial on the thread pool."""
        self._check(task)
        if self._pool is None:  # pragma: no cover - set by start
            raise RuntimeError("executor not started")
        outer: Future[TrialOutcome] = Future()
        outer.set_running_or_notify_cancel()
        self._flags_of(task.trial_id)  # a queued trial can be asked to stop
        with self._lock:
            self._entries[task.trial_id] = (outer, None)
            inner = self._pool.submit(self._work, task)
            self._entries[task.trial_id] = (outer, inner)
        inner.add_done_callback(lambda f: self._finish(task, outer, f))
        return outer

    def _finish(self, task: TrialTask, outer: Future[TrialOutcome], inner: Future[Any]) -> None:
        with self._lock:
            self._entries.pop(task.trial_id, None)
            self._flags.pop(task.trial_id, None)
        if outer.done():  # resolved by shutdown(wait=False)
            return
        if inner.cancelled():
            outcome = TrialOutcome(
                task.trial_id, TrialStatus.CANCELLED, reason="cancelled before it started"
            )
        elif inner.exception() is not None:
            exc = inner.exception()
            outcome = TrialOutcome(
                task.trial_id,
                TrialStatus.FAILED,
                reason=f"the thread executor failed: {exc!r}",
                host=HOST,
            )
        else:
            outcome = inner.result()
        _settle(outer, outcome)

    def cancel(self, trial_id: int) -> bool:
        """Cancel a queued trial, or mark a running one (see the class docs)."""
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is None or entry[1] is None or trial_id in self._cancelled:
                return False
            if entry[1].cancel():
                return True
            if entry[1].done():
                return False
            self._cancelled.add(trial_id)
        self.request_stop(trial_id)
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Stop the pool.

        With ``wait=False`` queued trials are cancelled and the futures of running
        ones resolve at once as ``cancelled`` (their threads run on until the
        objective returns, and see ``hh.should_stop()`` True).
        """
        self._closed = True
        if self._pool is None:
            return
        if not wait:
            with self._lock:
                entries = list(self._entries.items())
            for trial_id, (outer, inner) in entries:
                if inner is not None and inner.cancel():
                    continue
                self.request_stop(trial_id)
                reason = "the executor was shut down; the objective's thread runs on"
                _settle(outer, TrialOutcome(trial_id, TrialStatus.CANCELLED, reason=reason))
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
