"""Bookkeeping of the remote executors (Dask, Ray, MPI) without an engine: the order of
reports, the rule by which trials are kept queued (``prefetch``), and the search loop
submitting beyond ``workers`` when an executor asks for it."""

from __future__ import annotations

import threading
import time
from typing import Any

import hyperhive as hh
from hyperhive.executors import ClusterExecutor, TrialEntry
from hyperhive.executors._protocol import outcome_to_wire
from hyperhive.executors.local import Thread
from hyperhive.testing.flight import max_in_flight


class _Idle(ClusterExecutor):
    """A remote executor with no engine: only its bookkeeping is exercised."""

    name = "idle"

    def connect(self) -> None: ...

    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        return None

    def abort(self, entry: TrialEntry) -> None: ...

    def signal(self, entry: TrialEntry, what: str) -> None: ...

    def disconnect(self) -> None: ...


def _started_idle(workers: int = 2) -> tuple[_Idle, list[tuple[int, Any]]]:
    got: list[tuple[int, Any]] = []
    ex = _Idle(workers)
    ex.start(lambda c: 0.0, lambda tid, step, value, t: got.append((tid, value)))
    return ex, got


def test_reports_reach_the_sink_in_order_and_once():
    ex, got = _started_idle()
    fut = ex.submit(hh.executors.TrialTask(1, {}))
    ex.trial_report(1, 0, 0, "a", 0.0)
    ex.trial_report(1, 2, 2, "c", 0.0)  # ahead of report 1: held back
    assert got == [(1, "a")]
    ex.trial_report(1, 1, 1, "b", 0.0)
    ex.trial_report(1, 1, 1, "b", 0.0)  # a copy
    assert got == [(1, "a"), (1, "b"), (1, "c")]
    wire = outcome_to_wire(
        hh.executors.TrialOutcome(1, hh.TrialStatus.DONE, objective=1.0, started=1.0, finished=2.0)
    )
    reports = [(i, v, 0.0) for i, v in enumerate("abcd")]
    ex.trial_finished(1, wire, reports)  # only the one not forwarded live is new
    assert got == [(1, "a"), (1, "b"), (1, "c"), (1, "d")]
    assert fut.result().status == hh.TrialStatus.DONE
    ex.shutdown(wait=False)


def test_reports_held_for_a_gap_are_given_when_the_trial_is_lost():
    ex, got = _started_idle()
    fut = ex.submit(hh.executors.TrialTask(2, {}))
    ex.trial_report(2, 0, 0, "a", 0.0)
    ex.trial_report(2, 2, 2, "c", 0.0)  # report 1 died with the worker
    ex.trial_failed(2, hh.TrialStatus.LOST, "worker died")
    assert got == [(2, "a"), (2, "c")]
    assert fut.result().status == hh.TrialStatus.LOST
    ex.shutdown(wait=False)


def test_fixed_prefetch_is_used_as_given():
    ex = _Idle(4)
    assert ex.queue_slots() == 0  # the default of the base class: no queue
    ex.prefetch = 3
    assert ex.queue_slots() == 3


def test_auto_prefetch_follows_latency_over_duration():
    ex = _Idle(8)
    ex.prefetch = None
    assert ex.queue_slots() == 0  # nothing measured yet
    ex._waits.waits.extend([0.010] * 10)  # 10 ms from hand-off to start
    ex._waits.durations.extend([0.3] * 10)  # 0.3 s trials: 3.3% lost -> queue one per worker
    assert ex.queue_slots() == 8
    ex._waits.durations.extend([60.0] * 64)  # one-minute trials: 0.02% -> no queue
    assert ex.queue_slots() == 0


def test_dispatch_measured_only_for_trials_sent_to_a_free_worker():
    ex = _Idle(1)
    ex.start(lambda c: 0.0, lambda *a: None)
    ex.submit(hh.executors.TrialTask(1, {}))
    ex.submit(hh.executors.TrialTask(2, {}))  # queued behind trial 1
    time.sleep(0.02)
    ex.trial_started(1, "w")
    ex.trial_started(2, "w")
    assert len(ex._waits.waits) == 1 and ex._waits.waits[0] >= 0.02
    ex.shutdown(wait=False)


class _Queued(Thread):
    """A thread executor that asks for two queued trials beyond its workers."""

    def queue_slots(self) -> int:
        return 2


def test_search_submits_queue_slots_beyond_workers():
    lock = threading.Lock()
    state = {"in": 0, "peak": 0}
    events: list[int] = []

    def objective(config: dict) -> float:
        with lock:
            state["in"] += 1
            state["peak"] = max(state["peak"], state["in"])
        time.sleep(0.05)
        with lock:
            state["in"] -= 1
        return config["x"]

    class Cb:
        def __call__(self, trial: hh.Trial, view: Any) -> None:
            events.append(trial.id)

    ex = _Queued(2)
    result = hh.search(
        objective,
        hh.Space({"x": hh.Float(0.0, 1.0)}),
        executor=ex,
        max_evals=12,
        optimizer="random",
        seed=0,
        callbacks=[Cb()],
    )
    assert sum(t.status.counted for t in result.records) == 12 == len(events)
    # up to workers + queue_slots = 4 were submitted at once (the thread pool ran 2)
    assert max_in_flight(result.records) == 4
    assert state["peak"] == 2


def test_progress_utilization_counts_queued_trials_as_waiting():
    seen: list[float] = []

    def objective(config: dict) -> float:
        time.sleep(0.1)
        return config["x"]

    hh.search(
        objective,
        hh.Space({"x": hh.Float(0.0, 1.0)}),
        executor=_Queued(2),
        max_evals=12,
        optimizer="random",
        seed=0,
        progress=lambda info: seen.append(info["utilization"]),
    )
    assert seen and max(seen) <= 1.0 + 1e-6
    assert seen[-1] > 0.5
