"""The executor contract: where objectives run.

An executor has the ``concurrent.futures.Executor`` shape: ``submit`` returns a
future, ``shutdown`` ends it. It is bound once to the objective and to the
driver's report sink with :meth:`Executor.start`; after that each
:meth:`Executor.submit` takes one :class:`TrialTask` and returns a future that
resolves to a :class:`TrialOutcome` (a future never raises for a failure inside
the objective: failures are outcomes).

Futures are marked running when they are returned, so ``future.cancel()`` is a
no-op that returns False: end a trial with :meth:`Executor.cancel`, which resolves
its future with a ``cancelled`` outcome. Wait on futures with
``concurrent.futures.wait(..., return_when=FIRST_COMPLETED)`` or add done callbacks
(callbacks run in an executor thread: keep them short and thread-safe).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hyperhive.trial import TrialStatus

__all__ = [
    "CAPABILITIES",
    "Executor",
    "HyperhiveWarning",
    "ReportSink",
    "TrialOutcome",
    "TrialTask",
    "resolved_future",
]

ReportSink = Callable[[int, "int | None", Any, float], None]
"""Driver-side callback ``sink(trial_id, step, value, time)``; must be thread-safe."""


#: What an executor may declare in :attr:`Executor.capabilities`.
CAPABILITIES = frozenset({"kill", "stop", "lost"})


class HyperhiveWarning(UserWarning):
    """A warning from hyperhive (for example: an executor cannot enforce trial_timeout)."""


@dataclass
class TrialTask:
    """What a worker needs to run one trial.

    Attributes:
        trial_id: the trial id.
        config: the configuration to evaluate.
        seed: the trial's own seed.
        artifact_dir: a folder for the trial's files (its captured output goes there).
        timeout: seconds the trial may run (``trial_timeout``); None for no limit.
        capture_output: send the trial's stdout/stderr to ``artifact_dir``.
    """

    trial_id: int
    config: dict[str, Any]
    seed: int | None = None
    artifact_dir: str | None = None
    timeout: float | None = None
    capture_output: bool = True


@dataclass
class TrialOutcome:
    """How one trial ended, as seen by the worker (or by the executor for lost trials)."""

    trial_id: int
    status: TrialStatus
    objective: float | tuple[float, ...] | None = None
    constraints: tuple[float, ...] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    traceback: str | None = None
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    host: str | None = None


class Executor(abc.ABC):
    """Runs trials on workers.

    Attributes:
        name: the registry name (``"serial"``, ``"thread"``, ``"process"``, ...).
        workers: how many trials may run at once.
    """

    name: ClassVar[str] = ""
    #: True when ``trial_timeout`` is enforced by killing the trial.
    can_kill: ClassVar[bool] = False
    #: What this executor can do (:data:`CAPABILITIES`), read by
    #: :class:`hyperhive.testing.ExecutorContract` to skip what it cannot:
    #: ``"kill"``: a trial past ``trial_timeout`` is ended with everything it started
    #: (its process group); ``"stop"``: :meth:`request_stop` reaches a running trial;
    #: ``"lost"``: a worker that dies ends its trial as ``lost`` and the executor goes on.
    #: It may depend on how the executor was started (read it after :meth:`start`).
    capabilities: frozenset[str] = frozenset({"stop"})

    def __init__(self, workers: int = 1) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got workers={workers!r}")
        self.workers = workers

    @abc.abstractmethod
    def start(self, objective: Callable[[dict[str, Any]], Any], sink: ReportSink) -> None:
        """Bind the objective (pickled once where workers are other processes) and the sink."""

    @abc.abstractmethod
    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Run one trial; the future resolves to its :class:`TrialOutcome`."""

    @abc.abstractmethod
    def cancel(self, trial_id: int) -> bool:
        """End a submitted trial now; its future resolves with status ``cancelled``.

        Returns False when the trial is unknown or already finished.
        """

    def queue_slots(self) -> int:
        """Trials the search may submit beyond ``workers``, to wait in the engine's queue.

        A queued trial starts the moment a worker frees, without a round trip to the
        driver. Executors whose dispatch is fast return 0 (the default).
        """
        return 0

    def request_stop(self, trial_id: int) -> None:  # noqa: B027 - optional
        """Make ``hh.should_stop()`` return True inside the trial (used by stoppers)."""

    @abc.abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Release workers; with ``wait=False`` running trials are ended."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        # Leaving on an exception (Ctrl-C included) ends running trials instead of
        # waiting for them.
        self.shutdown(wait=exc_type is None)


def resolved_future(outcome: TrialOutcome) -> Future[TrialOutcome]:
    """A future that is already resolved to ``outcome``."""
    fut: Future[TrialOutcome] = Future()
    fut.set_running_or_notify_cancel()
    fut.set_result(outcome)
    return fut
