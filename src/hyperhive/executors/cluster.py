"""The public base class of the executors that run trials on a cluster engine's workers
(Dask, Ray, MPI, or one you add).

A subclass of :class:`ClusterExecutor` implements five hooks, each about the engine only:

* :meth:`~ClusterExecutor.connect`: connect to (or start) the engine, set ``workers``;
* :meth:`~ClusterExecutor.launch`: submit one trial; the engine's task calls
  :func:`hyperhive.executors.remote.execute` on the worker with the ``task_wire`` given;
* :meth:`~ClusterExecutor.abort`: end a queued or running trial on the engine;
* :meth:`~ClusterExecutor.signal`: deliver ``"stop"`` or ``"kill"`` to the trial's worker
  (for example by setting a :class:`~hyperhive.executors.Flags` there);
* :meth:`~ClusterExecutor.disconnect`: release the engine;

and calls back from the engine's callbacks: :meth:`~ClusterExecutor.trial_started`,
:meth:`~ClusterExecutor.trial_report`, :meth:`~ClusterExecutor.trial_finished` and
:meth:`~ClusterExecutor.trial_failed`. The base class keeps one :class:`TrialEntry`
per submitted trial, hands reports to the sink in order and exactly once (live copies
and the ones returned with the outcome are matched by number), and resolves each
future once: with the outcome, ``lost`` when the engine says the worker died, or
``cancelled`` at once when :meth:`~ClusterExecutor.cancel` is called.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any, ClassVar

import cloudpickle

from hyperhive.executors._prefetch import WaitStats
from hyperhive.executors._protocol import outcome_from_wire, task_to_wire
from hyperhive.executors.base import (
    Executor,
    HyperhiveWarning,
    ReportSink,
    TrialOutcome,
    TrialTask,
)
from hyperhive.executors.runner import HOST
from hyperhive.trial import TrialStatus

__all__ = ["ClusterExecutor", "TrialEntry"]

log = logging.getLogger("hyperhive.executors")


class TrialEntry:
    """The driver's record of one submitted trial (what the hooks receive).

    Attributes:
        task: the trial's task.
        future: resolved once with its outcome.
        handle: what :meth:`ClusterExecutor.launch` returned (the engine's future or
            object reference).
        where: the engine worker that runs it, once :meth:`ClusterExecutor.trial_started`
            said so (None before).
        started: when it started (driver clock), or None.
        stop: True once a stop was requested.
    """

    __slots__ = (
        "direct", "early", "future", "handle", "launched", "next_seq", "started", "stop", "task",
        "where",
    )  # fmt: skip

    def __init__(self, task: TrialTask, future: Future[TrialOutcome]) -> None:
        self.task = task
        self.future = future
        self.handle: Any = None  # the engine's future / object ref
        self.next_seq = 0  # reports 0..next_seq-1 were given to the sink, in order
        self.early: dict[int, tuple[Any, Any, float]] = {}  # arrived ahead of a missing one
        self.where: Any = None  # the engine worker running it, once known
        self.started: float | None = None
        self.stop = False
        self.launched = 0.0  # when it was handed to the engine (driver clock)
        self.direct = False  # a worker was free then (its start measures dispatch latency)


class ClusterExecutor(Executor):
    """Base of the executors that run trials on an engine's workers (Dask, Ray, MPI).

    Subclasses implement :meth:`connect`, :meth:`launch`, :meth:`abort`, :meth:`signal`
    and :meth:`disconnect`, and call :meth:`trial_started`, :meth:`trial_report`,
    :meth:`trial_finished` and :meth:`trial_failed` from the engine's callbacks (any
    thread). See the module docstring, and :class:`hyperhive.testing.ExecutorContract`
    for the tests every executor passes.

    Args:
        workers: trials in flight (None: :meth:`connect` sets it from the engine).
        isolate: run every trial in a killable child process of its worker (None: only
            when :meth:`needs_isolation` says so, by default for a ``trial_timeout``).
        grace_period: seconds between SIGTERM and SIGKILL when a trial is ended.

    Attributes:
        payload: the objective pickled with cloudpickle (set by :meth:`start`).
        key: a digest of ``payload``, the workers' cache key for it.
        run_id: a random id of this executor (for topics, names and tags).
    """

    can_kill = True
    capabilities = frozenset({"kill", "stop", "lost"})

    def __init__(
        self, workers: int | None = None, isolate: bool | None = None, grace_period: float = 2.0
    ) -> None:
        super().__init__(1 if workers is None else workers)
        if not grace_period >= 0:
            raise ValueError(f"grace_period must be >= 0, got {grace_period!r}")
        self.requested_workers = workers
        self.isolate = isolate
        self.grace_period = float(grace_period)
        self.run_id = uuid.uuid4().hex[:12]
        self._lock = threading.RLock()
        self._entries: dict[int, TrialEntry] = {}
        self._sink: ReportSink | None = None
        self.payload: bytes = b""
        self.key = ""
        self._state = "new"  # new, started, closed
        self._warned = False
        #: Extra trials to keep queued in the engine: an int, or None to decide from the
        #: measured dispatch latency (see :meth:`queue_slots`). Subclasses that support
        #: it expose it as an argument.
        self.prefetch: int | None = 0
        #: Dispatch latencies (trials sent to a free worker) and durations.
        self._waits = WaitStats()

    # -- the contract ----------------------------------------------------------------------

    def queue_slots(self) -> int:
        """Trials to keep queued in the engine beyond ``workers``.

        ``prefetch`` as an int is used as given. With ``prefetch=None`` it is
        ``workers`` (one queued trial per worker) while the measured dispatch latency
        (median of the last 64 trials sent to a free worker) is more than 1% of the
        median trial duration, else 0: short trials then start without waiting for the
        driver and the engine, and long ones are proposed as late as possible.
        """
        return self._waits.queue_slots(self.prefetch, self.workers)

    def start(self, objective: Callable[[dict[str, Any]], Any], sink: ReportSink) -> None:
        """Pickle the objective (cloudpickle, once) and connect to the engine.

        Raises:
            RuntimeError: when the executor was already started.
            TypeError: when the objective cannot be pickled.
        """
        if self._state != "new":
            raise RuntimeError("this executor was already started")
        try:
            self.payload = cloudpickle.dumps(objective)
        except Exception as exc:
            raise TypeError(
                f"the objective cannot be sent to {self.name} workers: cloudpickle failed "
                f"with {type(exc).__name__}: {exc}"
            ) from exc
        self.key = hashlib.sha1(self.payload).hexdigest()[:20]
        self._sink = sink
        self.connect()
        self._state = "started"

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Send one trial to the engine; the future resolves to its outcome.

        Raises:
            RuntimeError: before :meth:`start` or after :meth:`shutdown`.
        """
        if self._state == "new":
            raise RuntimeError("call start(objective, sink) before submit()")
        if self._state == "closed":
            raise RuntimeError("cannot submit trials after shutdown()")
        fut: Future[TrialOutcome] = Future()
        fut.set_running_or_notify_cancel()
        isolate = self.isolate if self.isolate is not None else self.needs_isolation(task)
        if task.timeout is not None and not isolate and not self._warned:
            self._warned = True
            warnings.warn(
                f"the {self.name!r} executor runs trials in the worker process (isolate=False): "
                "trial_timeout is checked when the objective returns",
                HyperhiveWarning,
                stacklevel=2,
            )
        entry = TrialEntry(task, fut)
        with self._lock:
            if task.trial_id in self._entries:
                raise ValueError(f"trial {task.trial_id} was already submitted")
            entry.direct = len(self._entries) < self.workers
            entry.launched = time.time()
            self._entries[task.trial_id] = entry
        try:
            handle = self.launch(task.trial_id, task_to_wire(task), isolate)
        except Exception as exc:  # noqa: BLE001 - e.g. a config that does not pickle
            reason = f"the trial could not be sent to the {self.name} workers: {exc!r}"
            self._resolve(task.trial_id, self._outcome(entry, TrialStatus.FAILED, reason))
            return fut
        with self._lock:
            entry.handle = handle
        return fut

    def cancel(self, trial_id: int) -> bool:
        """Resolve the trial's future as ``cancelled`` now and have the engine end it.

        A trial that runs in a child process (``trial_timeout`` or ``isolate=True``) is
        killed with its process group; one that runs in the worker's own process sees
        ``hh.should_stop()`` True and runs on until it returns (Ray ends its worker).
        """
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is None:
                return False
            running = entry.started is not None
        reason = "cancelled while running" if running else "cancelled before it started"
        # resolved first: the engine's own "cancelled" callback then finds nothing to do
        done = self._resolve(trial_id, self._outcome(entry, TrialStatus.CANCELLED, reason))
        try:
            self.abort(entry)
        except Exception:  # noqa: BLE001 - best effort; the future is resolved
            log.debug("%s executor: could not cancel trial %d", self.name, trial_id, exc_info=True)
        return done

    def request_stop(self, trial_id: int) -> None:
        """Make ``hh.should_stop()`` return True inside the trial."""
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is None or entry.stop:
                return
            entry.stop = True
            send = entry.where is not None or self.signal_anywhere
        if send:
            self._try_signal(entry, "stop")

    def shutdown(self, wait: bool = True) -> None:
        """Release the engine (a cluster or ``ray.init`` this executor started is ended).

        Args:
            wait: True waits for the trials in flight; False cancels them first.
        """
        if self._state == "closed":
            return
        if self._state == "started":
            if wait:
                for fut in [e.future for e in self.entries()]:
                    fut.result()
            else:
                for entry in self.entries():
                    self.cancel(entry.task.trial_id)
        self._state = "closed"
        self.disconnect()

    # -- for subclasses: what the engine's callbacks call ----------------------------------

    #: True when stop requests can be sent before the trial's worker is known.
    signal_anywhere: ClassVar[bool] = False

    def needs_isolation(self, task: TrialTask) -> bool:
        """Whether ``task`` must run in a killable child process when ``isolate`` is None."""
        return task.timeout is not None

    def entries(self) -> list[TrialEntry]:
        """The trials in flight."""
        with self._lock:
            return list(self._entries.values())

    def entry(self, trial_id: int) -> TrialEntry | None:
        """The trial's entry while it is in flight, else None."""
        with self._lock:
            return self._entries.get(trial_id)

    def trial_started(self, trial_id: int, where: Any) -> None:
        """The engine says the trial started on ``where``; sends a pending stop, or a kill
        for a trial that was cancelled meanwhile."""
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is not None:
                entry.where, entry.started = where, time.time()
                stop = entry.stop
                if entry.direct:
                    self._waits.wait(entry.started - entry.launched)
        if entry is None:
            probe = TrialEntry(TrialTask(trial_id, {}), Future())
            probe.where = where
            self._try_signal(probe, "kill")
        elif stop:
            self._try_signal(entry, "stop")

    def trial_report(self, trial_id: int, seq: int, step: int | None, value: Any, t: float) -> None:
        """A live report, given to the sink in the order the trial made its reports.

        One that arrives ahead of an earlier one waits for it (forwarding may reorder);
        one given already, or for a trial that is over, is dropped.
        """
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is None or seq < entry.next_seq or seq in entry.early:
                return
            entry.early[seq] = (step, value, t)
            self._flush(entry, complete=False)

    def _flush(self, entry: TrialEntry, complete: bool) -> None:
        """Give the sink the reports that are next in order (``complete``: all held ones,
        skipping the numbers that never came). Called with the lock held."""
        while entry.early:
            if entry.next_seq not in entry.early:
                if not complete:
                    return
                entry.next_seq = min(entry.early)
            step, value, t = entry.early.pop(entry.next_seq)
            entry.next_seq += 1
            self._deliver(
                entry.task.trial_id, step, tuple(value) if isinstance(value, list) else value, t
            )

    def trial_finished(
        self, trial_id: int, outcome_wire: Any, reports: list[Any] | tuple[Any, ...]
    ) -> None:
        """The trial's worker returned ``(outcome_wire, reports)``."""
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is None:
                return
            for i, (step, value, t) in enumerate(reports):
                if i >= entry.next_seq:
                    entry.early.setdefault(i, (step, value, t))
            self._flush(entry, complete=True)
        outcome = outcome_from_wire(outcome_wire)
        if outcome.started is not None and outcome.finished is not None:
            self._waits.duration(outcome.finished - outcome.started)
        self._resolve(trial_id, outcome)

    def trial_failed(self, trial_id: int, status: TrialStatus, reason: str) -> None:
        """The engine could not run the trial (``lost``: its worker died)."""
        with self._lock:
            entry = self._entries.get(trial_id)
            if entry is not None:
                self._flush(entry, complete=True)  # live reports held back for a gap
        if entry is not None:
            self._resolve(trial_id, self._outcome(entry, status, reason))

    def _outcome(self, entry: TrialEntry, status: TrialStatus, reason: str) -> TrialOutcome:
        return TrialOutcome(
            trial_id=entry.task.trial_id,
            status=status,
            reason=reason,
            started=entry.started,
            finished=time.time(),
            worker=None if entry.where is None else str(entry.where),
            host=HOST if entry.where is None else None,
        )

    def _resolve(self, trial_id: int, outcome: TrialOutcome) -> bool:
        with self._lock:
            entry = self._entries.pop(trial_id, None)
        if entry is None:
            return False
        try:
            entry.future.set_result(outcome)
        except InvalidStateError:
            return False
        return True

    def _deliver(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        if self._sink is None:
            return
        try:
            self._sink(trial_id, step, value, t)
        except Exception:  # noqa: BLE001 - a bad sink must not break the executor
            log.exception("%s executor: the report sink failed", self.name)

    def _try_signal(self, entry: TrialEntry, what: str) -> None:
        try:
            self.signal(entry, what)
        except Exception:  # noqa: BLE001 - the worker may be gone
            log.debug("%s executor: could not send %s", self.name, what, exc_info=True)

    # -- the hooks a subclass implements ----------------------------------------------------

    @abc.abstractmethod
    def connect(self) -> None:
        """Connect to (or start) the engine; set ``self.workers``."""

    @abc.abstractmethod
    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        """Submit one trial to the engine; returns the engine's handle.

        The engine's task runs :func:`hyperhive.executors.remote.execute` with
        ``task_wire`` (``isolate``: in a killable child process) and its result comes
        back through :meth:`trial_finished`; an exception raised here fails the trial.
        """

    @abc.abstractmethod
    def abort(self, entry: TrialEntry) -> None:
        """End a queued or running trial on the engine side."""

    @abc.abstractmethod
    def signal(self, entry: TrialEntry, what: str) -> None:
        """Send ``"stop"`` or ``"kill"`` to the worker that runs (or will run) the trial."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Release the engine."""
