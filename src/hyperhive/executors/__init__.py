"""Executors: where objectives run (serial, threads, worker processes, Dask, Ray, MPI).

Use :func:`get_executor` to get one by name. Every executor is bound once with
``start(objective, sink)``; ``submit(task)`` then returns a future that resolves
to a :class:`TrialOutcome` (failures are outcomes, never exceptions).

:class:`Dask`, :class:`Ray` and :class:`MPI` (extras ``dask``, ``ray``, ``mpi``) are
imported on first access; importing hyperhive never imports their engines.

How the parts fit: the process executor's slots and the killable children of
cluster workers are one program, the child host (``_child.py``), speaking one wire
protocol (``_protocol.py``: one message enum, one encoding of tasks and outcomes);
every running trial talks to its executor through one :class:`WorkerChannel`.

Adding an executor
------------------

1. Write the class.

   * For a cluster engine (a scheduler with remote workers), subclass
     :class:`ClusterExecutor` and implement its five hooks: ``connect()`` (connect
     or start the engine, set ``workers``), ``launch(trial_id, task_wire, isolate)``
     (submit a task that calls :func:`hyperhive.executors.remote.execute` on the
     worker with a :class:`Control` such as :class:`Flags` and a :data:`Forward` for
     live reports), ``abort(entry)``, ``signal(entry, "stop" | "kill")`` and
     ``disconnect()``. From the engine's callbacks call ``trial_started``,
     ``trial_report``, ``trial_finished`` (with what ``execute`` returned) and
     ``trial_failed`` (``lost`` when the worker died). Report ordering, exactly-once
     delivery, cancellation, trial time-outs (a killable child process per worker
     slot), ``prefetch`` and the futures are the base class's job.
   * Anything else subclasses :class:`Executor`: ``start``, ``submit``, ``cancel``,
     ``shutdown`` (and ``request_stop``, ``queue_slots`` when it can), and sets
     ``can_kill = True`` only if it ends trials that run past ``trial_timeout``.

2. Register it: ``register_executor("mine", Mine)`` (a factory of ``workers``;
   the class is one), and ``hh.search(..., executor="mine")`` finds it;
   :func:`available_executors` lists the names.

3. Declare what it can do in ``capabilities`` (``"kill"``: trials past
   ``trial_timeout`` are ended with their process group; ``"stop"``:
   ``request_stop`` reaches a running trial; ``"lost"``: a worker that dies ends its
   trial as ``lost`` and the executor goes on), and test it with the contract every
   executor here passes, :class:`hyperhive.testing.ExecutorContract` (outcomes and
   reports delivered once and in order, stop requests, hard time-outs that end
   grandchildren, a dead worker gives ``lost``, ``slots_per_trial``, exact budgets
   through ``hh.search``)::

       from hyperhive.testing import ExecutorContract

       class TestMine(ExecutorContract):
           def make_executor(self, workers):
               return Mine(workers, address=...)   # one cluster shared by the suite

   Tests whose capability the executor does not declare are skipped with the
   reason. ``tests/executors/test_cluster_base.py`` is a complete example: a cluster
   executor on a thread pool, in 60 lines, that passes the contract.
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
from hyperhive.executors.channel import Control, Flags, Forward, WorkerChannel
from hyperhive.executors.cluster import ClusterExecutor, TrialEntry
from hyperhive.executors.local import Serial, Thread
from hyperhive.executors.process import Process
from hyperhive.executors.registry import (
    EXECUTORS,
    LAZY_EXECUTORS,
    ExecutorFactory,
    available_executors,
    get_executor,
    register_executor,
)
from hyperhive.executors.runner import classify, run_trial

__all__ = [
    "EXECUTORS",
    "LAZY_EXECUTORS",
    "MPI",
    "ClusterExecutor",
    "Control",
    "Dask",
    "Executor",
    "ExecutorFactory",
    "Flags",
    "Forward",
    "HyperhiveWarning",
    "Process",
    "Ray",
    "ReportSink",
    "Serial",
    "Thread",
    "TrialEntry",
    "TrialOutcome",
    "TrialTask",
    "WorkerChannel",
    "available_executors",
    "classify",
    "get_executor",
    "register_executor",
    "resolved_future",
    "run_trial",
]

#: The classes of optional extras, imported on first access: class name -> module.
_LAZY_CLASSES = {
    "Dask": "hyperhive.executors.dask",
    "Ray": "hyperhive.executors.ray",
    "MPI": "hyperhive.executors.mpi",
}


def __getattr__(name: str) -> Any:
    """Import the executors of optional extras (``Dask``, ``Ray``, ``MPI``) on first use."""
    module = _LAZY_CLASSES.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
