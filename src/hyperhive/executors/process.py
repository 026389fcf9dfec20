"""The process executor: one long-lived worker process per slot.

Each slot process makes itself a process-group leader, so that ending a trial
(``trial_timeout`` or :meth:`Process.cancel`) ends everything the objective
started: SIGTERM to the group, then SIGKILL after ``grace_period``. The slot is
then started again; the other slots keep running. A slot that dies on its own
(segfault, ``os._exit``, out of memory) ends its trial as ``lost``.

One background thread in the driver waits on every slot's pipe and process
sentinel (:func:`multiprocessing.connection.wait`) and on the deadlines; it calls
the report sink and resolves the futures. The driver-side state machine lives in
:mod:`hyperhive.executors._pool` and :mod:`hyperhive.executors._state`; each slot runs
the killable child host of :mod:`hyperhive.executors._child`.

POSIX only for process groups: elsewhere only the slot process itself is ended.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.util  # registered before our atexit hook, so ours runs first
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import cloudpickle

from hyperhive.executors._pool import SlotPool
from hyperhive.executors._prefetch import check_prefetch
from hyperhive.executors.base import Executor, ReportSink, TrialOutcome, TrialTask

__all__ = ["Process"]

_live: weakref.WeakSet[Process] = weakref.WeakSet()


@atexit.register
def _shutdown_all() -> None:
    for executor in list(_live):
        executor.shutdown(wait=False)


def _default_start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


class Process(Executor):
    """Runs each trial in a worker process; ends trials past ``trial_timeout``.

    Args:
        workers: number of slots (trials that run at once).
        start_method: ``"forkserver"`` (default where available: safe with threads
            in the driver and quick to start a slot), ``"spawn"`` or ``"fork"``
            (unsafe when the driver has threads).
        grace_period: seconds between SIGTERM and SIGKILL when a trial is ended.
        prefetch: trials kept queued beyond ``workers``, handed to a slot by the
            executor's own I/O thread the moment it finishes a trial (no wait for
            the search loop to record the result, ask the optimizer and submit).
            None (default): one per slot while the slots' measured wait between two
            trials is more than 1% of the median trial duration (short trials),
            none otherwise (a queued trial is proposed before the results of the
            trials ahead of it are known). 0 turns it off.

    The objective is pickled once with cloudpickle (closures and lambdas work) and
    sent to each slot when it starts. As with :mod:`multiprocessing`, a script
    that uses this executor must guard its entry point with
    ``if __name__ == "__main__":`` (the workers import the main module).

    Each slot has the environment variable ``HYPERHIVE_WORKER=<slot>`` and ignores
    SIGINT (Ctrl-C is handled by the driver). Captured output goes to
    ``stdout.txt``/``stderr.txt`` in the trial's artifact folder at the file
    descriptor level, so output of C code and child processes is kept too.
    """

    name = "process"
    can_kill = True
    capabilities = frozenset({"kill", "stop", "lost"})

    def __init__(
        self,
        workers: int = 1,
        start_method: str | None = None,
        grace_period: float = 2.0,
        prefetch: int | None = None,
    ) -> None:
        super().__init__(workers)
        self.prefetch = check_prefetch(prefetch)
        method = start_method or _default_start_method()
        if method not in multiprocessing.get_all_start_methods():
            raise ValueError(
                f"start_method={start_method!r} is not available here; "
                f"use one of {multiprocessing.get_all_start_methods()}"
            )
        if not grace_period >= 0:
            raise ValueError(f"grace_period must be >= 0, got {grace_period!r}")
        self.start_method = method
        self.grace_period = float(grace_period)
        self._pool: SlotPool | None = None

    def start(self, objective: Callable[[dict[str, Any]], Any], sink: ReportSink) -> None:
        """Pickle the objective and start the slot processes.

        Raises:
            RuntimeError: when the executor was already started.
            TypeError: when the objective cannot be pickled.
        """
        if self._pool is not None:
            raise RuntimeError("this executor was already started")
        try:
            payload = cloudpickle.dumps(objective)
        except Exception as exc:
            raise TypeError(
                f"the objective cannot be sent to worker processes: cloudpickle failed "
                f"with {type(exc).__name__}: {exc}"
            ) from exc
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            _preload_slot_module(ctx)
        # forked slots would inherit thread-pool limits the driver sets later (the search
        # loop runs under threadpoolctl limits): they restore the counts seen now
        threads = _thread_counts() if self.start_method == "fork" else None
        self._pool = SlotPool(
            ctx, self.workers, payload, sink, self.grace_period, self.name, threads
        )
        _live.add(self)
        self._pool.start()

    def queue_slots(self) -> int:
        """Trials to keep queued beyond ``workers`` (see ``prefetch``)."""
        if self._pool is None:
            return self.prefetch or 0
        return self._pool.waits.queue_slots(self.prefetch, self.workers)

    def submit(self, task: TrialTask) -> Future[TrialOutcome]:
        """Queue one trial; it runs on the next free slot.

        Raises:
            RuntimeError: before :meth:`start` or after :meth:`shutdown`.
        """
        return self._started().submit(task)

    def cancel(self, trial_id: int) -> bool:
        """End a queued or running trial; its outcome is ``cancelled``.

        A running trial's process group gets SIGTERM, then SIGKILL after the grace
        period; its slot is started again. Returns False for an unknown or finished
        trial.
        """
        return self._pool.cancel(trial_id) if self._pool is not None else False

    def request_stop(self, trial_id: int) -> None:
        """Make ``hh.should_stop()`` return True inside the trial."""
        if self._pool is not None:
            self._pool.request_stop(trial_id)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the slots; no worker process is left afterwards.

        Args:
            wait: True runs the queued and running trials to their end first; False
                cancels them (running ones are ended as by :meth:`cancel`).
        """
        if self._pool is not None:
            self._pool.shutdown(wait)
        _live.discard(self)

    def worker_pids(self) -> list[int]:
        """The process ids of the slot processes alive now (for diagnostics and tests)."""
        return self._pool.pids() if self._pool is not None else []

    def _started(self) -> SlotPool:
        if self._pool is None:
            raise RuntimeError("call start(objective, sink) before submit()")
        return self._pool


def _thread_counts() -> dict[str, int] | None:
    try:
        from threadpoolctl import threadpool_info

        return {info["prefix"]: info["num_threads"] for info in threadpool_info()} or None
    except Exception:  # noqa: BLE001 - best effort
        return None


def _preload_slot_module(ctx: Any) -> None:
    """Have the forkserver import the slot code once, so each slot starts in a few ms."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    current = list(getattr(server, "_preload_modules", None) or ["__main__"])
    if "hyperhive.executors._child" not in current:
        ctx.set_forkserver_preload([*current, "hyperhive.executors._child"])
