"""A cluster executor written only against the public API (``ClusterExecutor``,
``execute``, ``Flags``, ``register_executor``) passes the executor contract: the
"engine" is a thread pool, and every trial runs in the killable child host."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

import hyperhive as hh
from hyperhive.executors import (
    ClusterExecutor,
    Executor,
    Flags,
    TrialEntry,
    get_executor,
    register_executor,
)
from hyperhive.executors import registry as executor_registry
from hyperhive.executors.remote import execute, release_children
from hyperhive.testing import ExecutorContract
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


class PoolCluster(ClusterExecutor):
    """Trials on the threads of a pool, each in a killable child process."""

    name = "pool-cluster"
    signal_anywhere = True  # the flags exist from launch on

    def __init__(self, workers: int = 2, grace_period: float = 0.5) -> None:
        super().__init__(workers, isolate=True, grace_period=grace_period)
        self.pool: ThreadPoolExecutor | None = None
        self.flags: dict[int, Flags] = {}

    def connect(self) -> None:
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="pool-cluster")

    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        if self.pool is None:
            raise RuntimeError("not connected")
        flags = self.flags[trial_id] = Flags()
        return self.pool.submit(self._run, trial_id, task_wire, isolate, flags)

    def _run(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool, flags: Flags) -> None:
        where = threading.current_thread().name
        self.trial_started(trial_id, where)
        try:
            outcome_wire, reports = execute(
                self.key, lambda: self.payload, task_wire, control=flags, worker=where,
                isolate=isolate, grace=self.grace_period, forward=self.trial_report,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the engine failed, not the trial
            self.trial_failed(trial_id, TrialStatus.FAILED, f"the pool failed: {exc!r}")
            return
        finally:
            self.flags.pop(trial_id, None)
        self.trial_finished(trial_id, outcome_wire, reports)

    def abort(self, entry: TrialEntry) -> None:
        handle: Future[None] | None = entry.handle
        if handle is not None:
            handle.cancel()
        self.signal(entry, "kill")

    def signal(self, entry: TrialEntry, what: str) -> None:
        flags = self.flags.get(entry.task.trial_id)
        if flags is not None:
            setattr(flags, what, True)

    def disconnect(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        release_children()


class TestPoolClusterContract(ExecutorContract):
    def make_executor(self, workers: int) -> Executor:
        return PoolCluster(workers)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test are undone after it."""
    monkeypatch.setattr(executor_registry, "EXECUTORS", dict(executor_registry.EXECUTORS))
    monkeypatch.setattr(executor_registry, "LAZY_EXECUTORS", dict(executor_registry.LAZY_EXECUTORS))


def test_registered_executor_runs_a_search_by_name(registry: None) -> None:
    register_executor("Pool-Cluster", PoolCluster)
    assert "pool-cluster" in hh.executors.available_executors()
    assert isinstance(get_executor("pool-cluster", 3), PoolCluster)
    assert get_executor("POOL-CLUSTER", 3).workers == 3
    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    result = hh.search(lambda c: c["x"], space, max_evals=5, workers=2, executor="pool-cluster")
    assert sum(t.status == hh.TrialStatus.DONE for t in result.records) == 5
    assert all(t.worker and t.worker.startswith("pool-cluster") for t in result.records)


def test_register_executor_checks_its_arguments(registry: None) -> None:
    register_executor("mine", PoolCluster)
    register_executor("mine", PoolCluster)  # the same factory again is fine
    with pytest.raises(ValueError, match="already registered"):
        register_executor("mine", lambda workers: PoolCluster(workers))
    with pytest.raises(ValueError, match="already registered"):
        register_executor("process", PoolCluster)
    with pytest.raises(ValueError, match="already registered"):
        register_executor("dask", PoolCluster)  # an optional extra's name, not imported
    register_executor("process", PoolCluster, replace=True)
    assert isinstance(get_executor("process", 2), PoolCluster)
    with pytest.raises(ValueError, match="reserved"):
        register_executor("auto", PoolCluster)
    with pytest.raises(ValueError, match="non-empty"):
        register_executor(" ", PoolCluster)
    with pytest.raises(TypeError, match="callable"):
        register_executor("bad", "not a factory")  # type: ignore[arg-type]
    register_executor("odd", lambda workers: object())  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="not an Executor"):
        get_executor("odd", 2)
