"""Objectives and checks shared by the Dask, Ray and MPI executor tests.

The objectives are closures made by factories, so cloudpickle sends them by value
(the workers never import this module), as it does for a user's closures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

import hyperhive as hh
from hyperhive.executors import Executor, TrialTask
from hyperhive.trial import TrialStatus


class Sink:
    """Collects reports; thread-safe."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int | None, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        with self.lock:
            self.items.append((trial_id, step, value))

    def of(self, trial_id: int) -> list[tuple[int | None, Any]]:
        with self.lock:
            return [(s, v) for t, s, v in self.items if t == trial_id]


def make_objective(marker: str | None = None) -> Callable[[dict], Any]:
    """The test objective.

    config keys: ``x`` (the value is x**2); ``hang``: start a grandchild ``sleep`` (its
    pid is reported with step -1) and sleep; ``sleep``: seconds to run, polling
    ``hh.should_stop()``. With ``marker``, the first trial to create that file writes
    its pid there and sleeps (the test kills its worker); the others return at once.
    Each trial reports x, x + 1, x + 2 (steps 0..2) first.
    """
    scale = 1.0  # a closed-over variable: the objective is a closure

    def objective(config: dict) -> dict:
        x = config["x"]
        for step in range(3):
            hh.report(x + step, step=step)
        if config.get("hang"):
            child = subprocess.Popen(["sleep", "1000"])
            hh.report(float(child.pid), step=-1)
            time.sleep(1000)
        if marker is not None:
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                time.sleep(120)
        end = time.monotonic() + config.get("sleep", 0.0)
        while time.monotonic() < end and not hh.should_stop():
            time.sleep(0.01)
        return {
            "objective": scale * x**2,
            "pid": os.getpid(),
            "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"),
        }

    return objective


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(cond: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def kill_when_marked(marker: Path, timeout: float = 60.0) -> threading.Thread:
    """SIGKILL the process whose pid appears in ``marker`` (in a thread)."""

    def run() -> None:
        if wait_until(lambda: marker.exists() and marker.read_text().strip() != "", timeout):
            os.kill(int(marker.read_text()), signal.SIGKILL)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def check_search(result: hh.Result, max_evals: int, worker_ok: Callable[[str], bool]) -> None:
    """Exact budget, every trial done with its three reports, named workers."""
    records = result.records
    counted = [t for t in records if t.status.counted]
    assert len(counted) == max_evals
    assert all(t.status == TrialStatus.DONE for t in counted), [t.reason for t in counted]
    for t in counted:
        assert [r.value for r in t.reports] == [t.config["x"] + s for s in range(3)]
        assert worker_ok(t.worker), t.worker


def check_lost_and_retried(result: hh.Result, max_evals: int) -> None:
    """One trial lost with its worker, re-run once, and the budget still exact."""
    lost = [t for t in result.records if t.status == TrialStatus.LOST]
    assert len(lost) == 1, [(t.id, t.status, t.reason) for t in result.records]
    retry = [t for t in result.records if t.retry_of == lost[0].id]
    assert len(retry) == 1 and retry[0].status == TrialStatus.DONE
    assert retry[0].config == lost[0].config and retry[0].attempt == 1
    assert sum(t.status.counted for t in result.records) == max_evals


def check_controls(ex: Executor, sink: Sink) -> None:
    """Timeouts kill the trial's process group; cancel and stop work, in and out of
    a child process; reports arrive once each, in order."""
    # trial_timeout: the child and the grandchild it started are killed
    t0 = time.monotonic()
    hang = ex.submit(TrialTask(1000, {"x": 1.0, "hang": True}, timeout=1.0))
    out = hang.result(timeout=30)
    assert out.status == TrialStatus.TIMEOUT, out
    assert time.monotonic() - t0 < 15
    grandchild = [int(v) for s, v in sink.of(1000) if s == -1]
    assert len(grandchild) == 1
    assert wait_until(lambda: not alive(grandchild[0]), 10)
    # each report once; live forwarding from a killed trial may interleave the steps
    assert sorted(r for r in sink.of(1000) if r[0] >= 0) == [(0, 1.0), (1, 2.0), (2, 3.0)]

    # cancelling a trial in a child process kills it
    fut = ex.submit(TrialTask(1001, {"x": 1.0, "hang": True}, timeout=60.0))
    assert wait_until(lambda: any(s == -1 for s, _ in sink.of(1001)), 20)
    pid = int(next(v for s, v in sink.of(1001) if s == -1))
    assert ex.cancel(1001)
    assert fut.result(timeout=1).status == TrialStatus.CANCELLED
    assert wait_until(lambda: not alive(pid), 10)
    assert not ex.cancel(1001)

    # hh.should_stop in the worker's own process and in a child process
    a = ex.submit(TrialTask(1002, {"x": 2.0, "sleep": 30.0}))
    b = ex.submit(TrialTask(1003, {"x": 2.0, "sleep": 30.0}, timeout=60.0))
    assert wait_until(lambda: len(sink.of(1002)) == 3 and len(sink.of(1003)) == 3, 20)
    ex.request_stop(1002)
    ex.request_stop(1003)
    for fut in (a, b):
        out = fut.result(timeout=15)
        assert out.status == TrialStatus.STOPPED, out
        assert out.objective == 4.0

    # cancelling a trial in the worker's own process resolves it at once
    c = ex.submit(TrialTask(1004, {"x": 1.0, "sleep": 1.0}))
    assert ex.cancel(1004)
    assert c.result(timeout=1).status == TrialStatus.CANCELLED

    # several trials in child processes at once, each with its own reports
    futs = [ex.submit(TrialTask(1010 + i, {"x": float(i)}, timeout=30.0)) for i in range(4)]
    outs = [f.result(timeout=30) for f in futs]
    assert all(o.status == TrialStatus.DONE for o in outs), outs
    for o in outs:
        assert sink.of(o.trial_id) == [(s, o.trial_id - 1010 + s) for s in range(3)]
