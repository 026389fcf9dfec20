"""Executors: where objectives run (serial, threads, worker processes).

Use :func:`get_executor` to get one by name. Every executor is bound once with
``start(objective, sink)``; ``submit(task)`` then returns a future that resolves
to a :class:`TrialOutcome` (failures are outcomes, never exceptions).
"""

from hyperhive.executors.base import (
    Executor,
    HyperhiveWarning,
    ReportSink,
    TrialOutcome,
    TrialTask,
    resolved_future,
)
from hyperhive.executors.local import LocalChannel, Serial, Thread
from hyperhive.executors.process import Process
from hyperhive.executors.registry import EXECUTORS, get_executor
from hyperhive.executors.runner import classify, run_trial

__all__ = [
    "EXECUTORS",
    "Executor",
    "HyperhiveWarning",
    "LocalChannel",
    "Process",
    "ReportSink",
    "Serial",
    "Thread",
    "TrialOutcome",
    "TrialTask",
    "classify",
    "get_executor",
    "resolved_future",
    "run_trial",
]
