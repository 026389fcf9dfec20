"""Serial and Thread executors, the registry, and the runner's classification."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

import hyperhive.trial as ht
from hyperhive.executors import (
    Executor,
    HyperhiveWarning,
    Process,
    Serial,
    Thread,
    TrialTask,
    classify,
    get_executor,
)
from hyperhive.trial import TrialStatus


class Sink:
    def __init__(self) -> None:
        self.items: list[tuple] = []
        self.lock = threading.Lock()

    def __call__(self, trial_id, step, value, t) -> None:
        with self.lock:
            self.items.append((trial_id, step, value))


@pytest.fixture(params=["serial", "thread"])
def kind(request):
    return request.param


def make(kind: str, objective, workers: int = 2, sink=None) -> Executor:
    ex = Serial() if kind == "serial" else Thread(workers)
    ex.start(objective, sink if sink is not None else Sink())
    return ex


def test_batch(kind):
    def objective(config):
        if config["x"] == 3:
            raise RuntimeError("three")
        return config["x"] ** 2

    with make(kind, objective) as ex:
        outs = [f.result(timeout=10) for f in [ex.submit(TrialTask(i, {"x": i})) for i in range(6)]]
    assert [o.status for o in outs] == [TrialStatus.DONE] * 3 + [TrialStatus.FAILED] + [
        TrialStatus.DONE
    ] * 2
    assert outs[2].objective == 4.0 and outs[3].reason == "RuntimeError: three"
    assert all(o.worker.startswith(f"{kind}-") and o.host for o in outs)


def test_timeout_warns_once_and_marks_late_trials(kind):
    ex = make(kind, lambda c: time.sleep(c["t"]) or 1.0)
    with pytest.warns(HyperhiveWarning, match="cannot end a running trial") as record:
        late = ex.submit(TrialTask(0, {"t": 0.15}, timeout=0.05)).result(timeout=10)
        ok = ex.submit(TrialTask(1, {"t": 0.0}, timeout=5)).result(timeout=10)
    assert len([w for w in record if issubclass(w.category, HyperhiveWarning)]) == 1
    assert late.status == TrialStatus.TIMEOUT and late.metadata["late_objective"] == 1.0
    assert ok.status == TrialStatus.DONE
    ex.shutdown()


def test_reports_reach_the_sink(kind):
    def objective(config):
        for step in range(5):
            ht.report(float(step) * 2, step=step)
        return 0.0

    sink = Sink()
    ex = make(kind, objective, sink=sink)
    ex.submit(TrialTask(7, {})).result(timeout=10)
    ex.shutdown()
    assert sink.items == [(7, s, 2.0 * s) for s in range(5)]


def test_stop_requested_before_start(kind):
    ex = make(kind, lambda c: 1.0 if not ht.should_stop() else 2.0)
    ex.request_stop(4)
    out = ex.submit(TrialTask(4, {})).result(timeout=10)
    assert out.status == TrialStatus.STOPPED and out.objective == 2.0
    assert ex.submit(TrialTask(5, {})).result(timeout=10).status == TrialStatus.DONE
    ex.shutdown()


def test_thread_stop_while_running():
    sink = Sink()

    def objective(config):
        step = 0
        while not ht.should_stop():
            ht.report(float(step), step=step)
            step += 1
            time.sleep(0.005)
        return float(step)

    ex = make("thread", objective, sink=sink)
    fut = ex.submit(TrialTask(0, {}))
    while not sink.items:
        time.sleep(0.01)
    ex.request_stop(0)
    assert fut.result(timeout=10).status == TrialStatus.STOPPED
    ex.shutdown()


def test_thread_output_captured_per_thread(tmp_path):
    barrier = threading.Barrier(2)

    def objective(config):
        barrier.wait(timeout=5)
        for _ in range(50):
            print(config["tag"])
            time.sleep(0.001)
        return 0.0

    ex = make("thread", objective, workers=2)
    futs = [
        ex.submit(TrialTask(i, {"tag": tag}, artifact_dir=str(tmp_path / tag)))
        for i, tag in enumerate(["alpha", "beta"])
    ]
    assert all(f.result(timeout=10).status == TrialStatus.DONE for f in futs)
    ex.shutdown()
    for tag in ["alpha", "beta"]:
        lines = (tmp_path / tag / "stdout.txt").read_text().split()
        assert lines == [tag] * 50


def test_thread_cancel_queued_and_running():
    release = threading.Event()
    ex = make("thread", lambda c: release.wait(10) and 1.0, workers=1)
    running = ex.submit(TrialTask(0, {}))
    queued = ex.submit(TrialTask(1, {}))
    time.sleep(0.05)
    assert ex.cancel(1) is True
    assert queued.result(timeout=5).status == TrialStatus.CANCELLED
    assert ex.cancel(0) is True and ex.cancel(0) is False
    assert not running.done()  # a thread cannot be killed: it resolves when it returns
    release.set()
    out = running.result(timeout=5)
    assert out.status == TrialStatus.CANCELLED and out.metadata["late_objective"] == 1.0
    assert ex.cancel(99) is False
    ex.shutdown()


def test_thread_shutdown_without_wait():
    release = threading.Event()
    ex = make("thread", lambda c: release.wait(10) and 1.0, workers=1)
    running, queued = ex.submit(TrialTask(0, {})), ex.submit(TrialTask(1, {}))
    time.sleep(0.05)
    ex.shutdown(wait=False)
    assert running.result(timeout=1).status == TrialStatus.CANCELLED
    assert queued.result(timeout=1).status == TrialStatus.CANCELLED
    release.set()
    with pytest.raises(RuntimeError):
        ex.submit(TrialTask(2, {}))


def test_serial_lets_keyboard_interrupt_through():
    def objective(config):
        if config["stop"]:
            raise KeyboardInterrupt
        return 1.0

    ex = make("serial", objective)
    with pytest.raises(KeyboardInterrupt):
        ex.submit(TrialTask(0, {"stop": True}))
    assert ex.submit(TrialTask(1, {"stop": False})).result().status == TrialStatus.DONE


def test_registry():
    assert isinstance(get_executor("auto", 1), Serial)
    auto = get_executor("auto", 4)
    assert isinstance(auto, Process) and auto.workers == 4
    assert isinstance(get_executor("thread", 3), Thread)
    assert isinstance(get_executor("Process", 2), Process)
    ex = Thread(2)
    assert get_executor(ex, 8) is ex
    with pytest.raises(ValueError, match="'serial', 'thread', 'process'.*'dask'"):
        get_executor("nope", 2)
    with pytest.raises(ValueError, match="one trial at a time"):
        get_executor("serial", 2)
    with pytest.raises(ValueError):
        Thread(0)


def test_submit_before_start_raises():
    with pytest.raises(RuntimeError, match="start"):
        Serial().submit(TrialTask(0, {}))
    with pytest.raises(RuntimeError, match="start"):
        Process(1).submit(TrialTask(0, {}))


@pytest.mark.parametrize(
    ("value", "status", "objective"),
    [
        (1, TrialStatus.DONE, 1.0),
        ([1, 2.5], TrialStatus.DONE, (1.0, 2.5)),
        ({"objective": 2, "acc": 0.5}, TrialStatus.DONE, 2.0),
        (float("nan"), TrialStatus.FAILED, None),
        (10**400, TrialStatus.FAILED, None),
        ({"loss": 1.0}, TrialStatus.FAILED, None),
        (None, TrialStatus.FAILED, None),
        ("1.0", TrialStatus.FAILED, None),
        ([], TrialStatus.FAILED, None),
    ],
)
def test_classify(value, status, objective):
    got, fields = classify(value)
    assert got == status
    assert fields.get("objective") == objective
    if status == TrialStatus.FAILED:
        assert fields["reason"]


def test_no_warning_without_timeout(kind):
    ex = make(kind, lambda c: 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ex.submit(TrialTask(0, {})).result(timeout=5).status == TrialStatus.DONE
    ex.shutdown()
