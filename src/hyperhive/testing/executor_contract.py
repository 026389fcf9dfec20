"""The contract every executor must keep, as a reusable pytest base class.

Subclass :class:`ExecutorContract` in a test module and implement
:meth:`~ExecutorContract.make_executor`::

    class TestMyExecutor(ExecutorContract):
        def make_executor(self, workers):
            return MyExecutor(workers)

The suite starts executors on tiny trials and checks what the search relies on:
outcomes and intermediate reports (each delivered once, in order), stop requests
reaching a running trial, hard time-outs that end the trial's process group
(grandchildren included), a worker that dies giving a ``lost`` outcome,
``slots_per_trial`` and exact budgets through :func:`hyperhive.search`.

Tests that need a capability the executor does not declare in
:attr:`Executor.capabilities <hyperhive.executors.Executor.capabilities>` (read
after ``start``) are skipped with the reason. Executors of a cluster should share
one cluster across the suite (a module- or session-scoped fixture that
``make_executor`` uses): each test makes a new executor, never a new cluster.

The objectives are module-level functions of this module: workers import
``hyperhive`` anyway, so cloudpickle sends them by reference.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, ClassVar

import psutil
import pytest

from hyperhive.executors.base import Executor, TrialOutcome, TrialTask
from hyperhive.testing.flight import max_in_flight
from hyperhive.trial import TrialStatus

__all__ = ["ExecutorContract", "budget_objective", "contract_objective"]

#: Seconds any one trial of the suite may take before a test fails.
WAIT = 120.0


def contract_objective(config: dict[str, Any]) -> Any:
    """The suite's objective, driven by the configuration.

    ``x`` (the value is ``x**2``); ``reports``: report ``x + s`` at steps
    ``0..reports-1`` first; ``mode``: ``"plain"``, ``"raise"`` (a ValueError),
    ``"wait_stop"`` (poll ``hh.should_stop()`` up to a minute, then return ``x``),
    ``"hang"`` (start a grandchild ``sleep``, report its pid at step ``reports``, sleep),
    ``"die"`` (SIGKILL its own process).
    """
    import hyperhive as hh

    x = float(config.get("x", 0.0))
    n = int(config.get("reports", 0))
    for step in range(n):
        hh.report(x + step, step=step)
    mode = config.get("mode", "plain")
    if mode == "raise":
        raise ValueError(f"contract failure {x}")
    if mode == "wait_stop":
        end = time.monotonic() + 60.0
        while not hh.should_stop() and time.monotonic() < end:
            time.sleep(0.01)
        return x
    if mode == "hang":
        child = subprocess.Popen(["sleep", "1000"])
        hh.report(float(child.pid), step=n)
        time.sleep(1000)
    if mode == "die":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(60)
    return x * x


def budget_objective(config: dict[str, Any]) -> float:
    """The objective of the searches in the suite: two reports, a short sleep, ``x``."""
    import hyperhive as hh

    x = float(config["x"])
    hh.report(x, step=0)
    hh.report(x + 1.0, step=1)
    time.sleep(0.05)
    return x


class _Sink:
    """Collects reports (thread-safe) and signals the first one of each trial."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int | None, Any]] = []
        self.lock = threading.Lock()
        self.seen: dict[int, threading.Event] = {}

    def __call__(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        with self.lock:
            self.items.append((trial_id, step, value))
            event = self.seen.setdefault(trial_id, threading.Event())
        event.set()

    def of(self, trial_id: int) -> list[tuple[int | None, Any]]:
        with self.lock:
            return [(s, v) for t, s, v in self.items if t == trial_id]

    def wait(self, trial_id: int, timeout: float = WAIT) -> None:
        with self.lock:
            event = self.seen.setdefault(trial_id, threading.Event())
        assert event.wait(timeout), f"no report of trial {trial_id} within {timeout} s"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class ExecutorContract:
    """Tests every executor passes; subclass it and implement :meth:`make_executor`."""

    #: Workers asked of each executor (the searches use as many).
    workers: ClassVar[int] = 2

    # -- hooks -------------------------------------------------------------------------
    def make_executor(self, workers: int) -> Executor:
        """A new, unstarted executor with ``workers`` workers (a short grace period
        keeps the time-out tests quick)."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------
    @pytest.fixture
    def started(self) -> Iterator[tuple[Executor, _Sink]]:
        """The executor under test, started on :func:`contract_objective`, ended after."""
        executor = self.make_executor(self.workers)
        sink = _Sink()
        executor.start(contract_objective, sink)
        yield executor, sink
        executor.shutdown(wait=False)

    @staticmethod
    def require(executor: Executor, capability: str) -> None:
        """Skip the test unless ``executor`` declares ``capability``."""
        if capability not in executor.capabilities:
            pytest.skip(f"{type(executor).__name__} lacks the {capability!r} capability")

    @staticmethod
    def submit_in_thread(executor: Executor, task: TrialTask) -> Future[TrialOutcome]:
        """Submit from another thread (the serial executor runs the trial in ``submit``)."""
        box: Future[TrialOutcome] = Future()

        def run() -> None:
            try:
                box.set_result(executor.submit(task).result(WAIT))
            except BaseException as exc:  # noqa: BLE001 - the test sees it
                box.set_exception(exc)

        threading.Thread(target=run, daemon=True).start()
        return box

    def search(self, executor: Executor, max_evals: int, **options: Any) -> Any:
        """:func:`hyperhive.search` of :func:`budget_objective` with ``executor``."""
        import hyperhive as hh

        space = hh.Space({"x": hh.Float(0.0, 1.0)})
        return hh.search(
            budget_objective, space, max_evals=max_evals, workers=self.workers,
            executor=executor, seed=0, **options,
        )  # fmt: skip

    # -- outcomes and reports ------------------------------------------------------------
    def test_outcomes_and_reports_once_in_order(self, started: tuple[Executor, _Sink]) -> None:
        executor, sink = started
        tasks = [TrialTask(i, {"x": float(i), "reports": 5}) for i in range(1, 5)]
        futures = [executor.submit(t) for t in tasks]
        failing = executor.submit(TrialTask(9, {"x": 9.0, "mode": "raise", "reports": 2}))
        for task, fut in zip(tasks, futures, strict=True):
            out = fut.result(WAIT)
            x = task.config["x"]
            assert out.trial_id == task.trial_id and out.status == TrialStatus.DONE, out
            assert out.objective == x * x
            assert out.started is not None and out.finished is not None
            assert out.started <= out.finished
        out = failing.result(WAIT)
        assert out.status == TrialStatus.FAILED and "contract failure 9.0" in (out.reason or "")
        # reports arrive before (or with) the outcome: all of them are in by now
        for task in tasks:
            x = task.config["x"]
            assert sink.of(task.trial_id) == [(s, x + s) for s in range(5)]
        assert sink.of(9) == [(0, 9.0), (1, 10.0)]

    def test_submitting_twice_or_after_shutdown_is_refused(self) -> None:
        executor = self.make_executor(self.workers)
        with pytest.raises(RuntimeError):
            executor.submit(TrialTask(1, {}))
        executor.start(contract_objective, _Sink())
        assert executor.submit(TrialTask(1, {"x": 2.0})).result(WAIT).objective == 4.0
        executor.shutdown(wait=True)
        with pytest.raises(RuntimeError):
            executor.submit(TrialTask(2, {}))

    # -- stop requests -------------------------------------------------------------------
    def test_stop_request_reaches_the_running_trial(self, started: tuple[Executor, _Sink]) -> None:
        executor, sink = started
        self.require(executor, "stop")
        fut = self.submit_in_thread(executor, TrialTask(1, {"mode": "wait_stop", "reports": 1}))
        sink.wait(1)  # it runs
        began = time.monotonic()
        executor.request_stop(1)
        out = fut.result(WAIT)
        assert out.status == TrialStatus.STOPPED, out
        assert time.monotonic() - began < 50.0  # not the objective's own one-minute limit

    # -- hard time-outs ------------------------------------------------------------------
    def test_timeout_ends_the_trial_and_its_children(self, started: tuple[Executor, _Sink]) -> None:
        executor, sink = started
        self.require(executor, "kill")
        # 2 s: time for the grandchild to start and be reported on a loaded machine
        out = executor.submit(TrialTask(1, {"mode": "hang"}, timeout=2.0)).result(WAIT)
        assert out.status == TrialStatus.TIMEOUT, out
        assert "trial_timeout" in (out.reason or "")
        reports = sink.of(1)
        assert reports, "the trial's report of its grandchild's pid never arrived"
        (step, pid), *_ = reports
        assert step == 0
        end = time.monotonic() + 30.0
        while _alive(int(pid)) and time.monotonic() < end:
            time.sleep(0.05)
        assert not _alive(int(pid)), "the trial's grandchild outlived its time-out"
        # the executor goes on
        assert executor.submit(TrialTask(2, {"x": 3.0})).result(WAIT).objective == 9.0

    # -- a worker that dies ----------------------------------------------------------------
    def test_dead_worker_gives_lost(self, started: tuple[Executor, _Sink]) -> None:
        executor, _ = started
        self.require(executor, "lost")
        out = executor.submit(TrialTask(1, {"mode": "die"})).result(WAIT)
        assert out.status == TrialStatus.LOST, out
        assert out.reason
        # the executor goes on
        assert executor.submit(TrialTask(2, {"x": 3.0})).result(WAIT).objective == 9.0

    # -- through the search ----------------------------------------------------------------
    def test_exact_budget_through_search(self) -> None:
        executor = self.make_executor(self.workers)
        n = 2 * self.workers + 1
        result = self.search(executor, n)
        counted = [t for t in result.records if t.status.counted]
        assert len(counted) == n
        assert all(t.status == TrialStatus.DONE for t in counted)
        for t in counted:
            x = t.config["x"]
            assert [(r.step, r.value) for r in t.reports] == [(0, x), (1, x + 1.0)]

    def test_slots_per_trial(self) -> None:
        executor = self.make_executor(self.workers)
        result = self.search(executor, 4, slots_per_trial=lambda config: 2)
        assert sum(t.status.counted for t in result.records) == 4
        assert max_in_flight(result.records) == max(1, executor.workers // 2)
