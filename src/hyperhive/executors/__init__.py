"""Executors: where objectives run (serial, threads, worker processes, Dask, Ray, MPI).

Use :func:`get_executor` to get one by name. Every executor is bound once with
``start(objective, sink)``; ``submit(task)`` then returns a future that resolves
to a :class:`TrialOutcome` (failures are outcomes, never exceptions).

:class:`Dask`, :class:`Ray` and :class:`MPI` (extras ``dask``, ``ray``, ``mpi``) are
imported on first access; importing hyperhive never imports their engines.
"""

from typing import Any

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
from hyperhive.executors.registry import EXECUTORS, LAZY_EXECUTORS, get_executor
from hyperhive.executors.runner import classify, run_trial

__all__ = [
    "EXECUTORS",
    "LAZY_EXECUTORS",
    "MPI",
    "Dask",
    "Executor",
    "HyperhiveWarning",
    "LocalChannel",
    "Process",
    "Ray",
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


def __getattr__(name: str) -> Any:
    """Import the executors of optional extras (``Dask``, ``Ray``, ``MPI``) on first use."""
    for module, cls, _extra in LAZY_EXECUTORS.values():
        if cls == name:
            import importlib

            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
