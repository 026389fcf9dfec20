"""The executor contract: where objectives run.

An executor has the ``concurrent.futures.Executor`` shape: ``submit`` returns a
future, ``shutdown`` ends it. It is bound once to the objective and to the
driver's report sink with :meth:`Executor.start`; after that each
:meth:`Executor.submit` takes one :class:`TrialTask` and returns a future that
resolves to a :class:`TrialOutcome` (a future never raises for a failure inside
the objective: failures are outcomes).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hyperhive.trial import TrialStatus

ReportSink = Callable[[int, "int | None", Any, float], None]
"""Driver-side callback ``sink(trial_id, step, value, time)``; must be thread-safe."""


@dataclass
class TrialTask:
    """What a worker needs to run one trial."""

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

    def request_stop(self, trial_id: int) -> None:  # noqa: B027 - optional
        """Make ``hh.should_stop()`` return True inside the trial (used by stoppers)."""

    @abc.abstractmethod
    def shutdown(self, wait: bool = True) -> None:
        """Release workers; with ``wait=False`` running trials are ended."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)
