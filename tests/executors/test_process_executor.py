"""The process executor, with real worker processes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

import hyperhive.trial as ht
from hyperhive.executors import Process, TrialTask
from hyperhive.testing.flight import max_in_flight
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


class Sink:
    """Collects reports; thread-safe."""

    def __init__(self) -> None:
        self.items: list[tuple] = []
        self.lock = threading.Lock()

    def __call__(self, trial_id, step, value, t) -> None:
        with self.lock:
            self.items.append((trial_id, step, value))

    def of(self, trial_id: int) -> list[tuple]:
        with self.lock:
            return [(s, v) for t, s, v in self.items if t == trial_id]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.fixture
def make():
    made: list[Process] = []

    def factory(objective, workers=2, sink=None, **kw) -> Process:
        ex = Process(workers, **kw)
        ex.start(objective, sink if sink is not None else Sink())
        made.append(ex)
        return ex

    yield factory
    for ex in made:
        ex.shutdown(wait=False)


def results(ex: Process, tasks: list[TrialTask], timeout: float = 30.0):
    futs = [ex.submit(t) for t in tasks]
    return [f.result(timeout=timeout) for f in futs]


def hanging(config):
    """Objective for the timeout tests: 'hang' starts a grandchild and sleeps."""
    if config["kind"] == "hang":
        child = subprocess.Popen(["sleep", "1000"])
        ht.report(float(child.pid))
        time.sleep(1000)
    time.sleep(config.get("sleep", 0.0))
    return float(os.getpid())


def _boom():
    raise RuntimeError("cannot load me")


class Unloadable:
    """Pickles fine in the driver, fails to unpickle in the worker."""

    def __call__(self, config):
        return 1.0

    def __reduce__(self):
        return (_boom, ())


class DiesOnLoad:
    """Its unpickling ends the worker process before it starts."""

    def __call__(self, config):
        return 1.0

    def __reduce__(self):
        return (os._exit, (1,))


@pytest.mark.parametrize("method", [None, "spawn"])
def test_batch_with_closure_and_lambda(make, method):
    k = 3.0
    ex = make(lambda c: c["x"] * k, workers=3, start_method=method)
    outs = results(ex, [TrialTask(i, {"x": i}) for i in range(30)])
    assert [o.status for o in outs] == [TrialStatus.DONE] * 30
    assert [o.objective for o in outs] == [3.0 * i for i in range(30)]
    assert {o.worker for o in outs} <= {"process-0", "process-1", "process-2"}
    assert all(o.host and o.started <= o.finished for o in outs)


def test_failure_env_and_metadata(make):
    def objective(config):
        if config["x"] < 0:
            raise ValueError("negative x")
        return {"objective": config["x"], "slot": os.environ["HYPERHIVE_WORKER"]}

    ex = make(objective, workers=1)
    bad, good = results(ex, [TrialTask(0, {"x": -1}), TrialTask(1, {"x": 2})])
    assert bad.status == TrialStatus.FAILED and bad.reason == "ValueError: negative x"
    assert "negative x" in bad.traceback
    assert good.status == TrialStatus.DONE and good.metadata == {"slot": "0"}


def test_timeout_kills_group_others_unaffected_and_respawns(make):
    sink = Sink()
    ex = make(hanging, workers=3, sink=sink, grace_period=0.5)
    hang = ex.submit(TrialTask(0, {"kind": "hang"}, timeout=0.5))
    others = [ex.submit(TrialTask(i, {"kind": "ok", "sleep": 1.0}, timeout=20)) for i in (1, 2)]
    out = hang.result(timeout=20)
    assert out.status == TrialStatus.TIMEOUT
    assert "trial_timeout=0.5" in out.reason and out.worker.startswith("process-")
    (grandchild,) = [int(v) for _, v in sink.of(0)]
    assert wait_until(lambda: gone(grandchild), 5)
    outs = [f.result(timeout=20) for f in others]
    assert [o.status for o in outs] == [TrialStatus.DONE, TrialStatus.DONE]
    # the ended slot was started again and runs later trials
    later = results(ex, [TrialTask(10 + i, {"kind": "ok", "sleep": 0.2}) for i in range(6)])
    assert all(o.status == TrialStatus.DONE for o in later)
    assert out.worker in {o.worker for o in later}
    assert len(set(ex.worker_pids())) == 3


def test_os_exit_is_lost_and_slot_respawns(make):
    def objective(config):
        if config["die"]:
            os._exit(3)
        return 1.0

    ex = make(objective, workers=1)
    lost, after = results(ex, [TrialTask(0, {"die": True}), TrialTask(1, {"die": False})])
    assert lost.status == TrialStatus.LOST
    assert "exited with code 3" in lost.reason and "process-0" in lost.reason
    assert after.status == TrialStatus.DONE


def test_segfault_is_lost(make):
    ex = make(lambda c: os.kill(os.getpid(), signal.SIGSEGV), workers=1)
    (out,) = results(ex, [TrialTask(0, {})])
    assert out.status == TrialStatus.LOST and "SIGSEGV" in out.reason


def test_cancel_queued_and_running(make):
    ex = make(lambda c: time.sleep(c["t"]) or 1.0, workers=1, grace_period=0.5)
    running = ex.submit(TrialTask(0, {"t": 100}))
    queued = ex.submit(TrialTask(1, {"t": 0}))
    time.sleep(0.3)
    assert ex.cancel(1) is True
    assert queued.result(timeout=5).status == TrialStatus.CANCELLED
    assert ex.cancel(0) is True
    out = running.result(timeout=10)
    assert out.status == TrialStatus.CANCELLED and out.worker == "process-0"
    assert ex.cancel(0) is False and ex.cancel(99) is False
    (after,) = results(ex, [TrialTask(2, {"t": 0})])
    assert after.status == TrialStatus.DONE


def test_request_stop_reports_in_order(make):
    def objective(config):
        step = 0
        while not ht.should_stop():
            ht.report(float(step), step=step)
            step += 1
            time.sleep(0.005)
        return float(step)

    sink = Sink()
    ex = make(objective, workers=1, sink=sink)
    fut = ex.submit(TrialTask(0, {}))
    queued = ex.submit(TrialTask(1, {}))
    ex.request_stop(1)  # asked before it starts: it stops at once
    assert wait_until(lambda: len(sink.of(0)) >= 5)
    ex.request_stop(0)
    out = fut.result(timeout=10)
    assert out.status == TrialStatus.STOPPED
    reports = sink.of(0)
    assert reports == [(i, float(i)) for i in range(len(reports))]
    assert len(reports) == out.objective
    assert queued.result(timeout=10).status == TrialStatus.STOPPED
    assert sink.of(1) == []


def test_output_captured_to_artifact_folder(make, tmp_path):
    def objective(config):
        print("from python")
        print("to stderr", file=sys.stderr)
        subprocess.run(["echo", "from a child"], check=True)
        return 0.0

    ex = make(objective, workers=1)
    (out,) = results(ex, [TrialTask(0, {}, artifact_dir=str(tmp_path / "t0"))])
    assert out.status == TrialStatus.DONE
    stdout = (tmp_path / "t0" / "stdout.txt").read_text()
    assert "from python" in stdout and "from a child" in stdout
    assert "to stderr" in (tmp_path / "t0" / "stderr.txt").read_text()


def test_shutdown_leaves_no_processes(make):
    def objective(config):
        if config["bg"]:  # a background process left behind by a finished trial
            ht.report(float(subprocess.Popen(["sleep", "1000"]).pid))
        return 0.0

    sink = Sink()
    ex = make(objective, workers=3, sink=sink)
    assert all(o.status == TrialStatus.DONE for o in results(ex, [TrialTask(0, {"bg": True})]))
    pids = ex.worker_pids()
    tree = {p.pid for pid in pids for p in psutil.Process(pid).children(recursive=True)}
    tree |= {int(v) for _, v in sink.of(0)} | set(pids)
    ex.shutdown(wait=True)
    assert ex.worker_pids() == []
    assert wait_until(lambda: all(gone(p) for p in tree), 5)
    with pytest.raises(RuntimeError):
        ex.submit(TrialTask(1, {"bg": False}))


def test_shutdown_without_wait_ends_running(make):
    ex = make(lambda c: time.sleep(100), workers=1, grace_period=0.2)
    running, queued = ex.submit(TrialTask(0, {})), ex.submit(TrialTask(1, {}))
    time.sleep(0.3)
    pids = ex.worker_pids()
    t0 = time.monotonic()
    ex.shutdown(wait=False)
    assert time.monotonic() - t0 < 5
    assert running.result(timeout=1).status == TrialStatus.CANCELLED
    assert queued.result(timeout=1).status == TrialStatus.CANCELLED
    assert all(gone(p) for p in pids)


def test_objective_that_cannot_load_fails_every_trial(make):
    ex = make(Unloadable(), workers=2)
    outs = results(ex, [TrialTask(i, {}) for i in range(4)], timeout=20)
    assert all(o.status == TrialStatus.FAILED for o in outs)
    assert all("could not be loaded" in o.reason and "cannot load me" in o.reason for o in outs)


def test_workers_that_die_at_start_break_the_executor(make):
    ex = make(DiesOnLoad(), workers=2)
    outs = results(ex, [TrialTask(i, {}) for i in range(3)], timeout=30)
    assert all(o.status == TrialStatus.FAILED for o in outs)
    assert "before they start" in outs[0].reason
    assert ex.submit(TrialTask(9, {})).result(timeout=5).status == TrialStatus.FAILED


def test_unpicklable_objective_raises_at_start():
    lock = threading.Lock()
    ex = Process(1)
    with pytest.raises(TypeError, match="cannot be sent"):
        ex.start(lambda c: lock and 1.0, Sink())


def test_slots_ignore_sigint(make):
    ex = make(lambda c: time.sleep(0.5) or 1.0, workers=1)
    fut = ex.submit(TrialTask(0, {}))
    time.sleep(0.2)
    os.kill(ex.worker_pids()[0], signal.SIGINT)
    assert fut.result(timeout=10).status == TrialStatus.DONE


def test_throughput_instant_objective(make, record_property):
    # the search loop's pattern: done-callbacks feed a queue, one submit per result
    ex = make(lambda c: 1.0, workers=8)
    results(ex, [TrialTask(i, {}) for i in range(100)])  # warm up
    done: queue.SimpleQueue = queue.SimpleQueue()
    n, submitted, finished, t0 = 4000, 0, 0, time.perf_counter()
    while finished < n:
        while submitted - finished < 8 and submitted < n:
            ex.submit(TrialTask(1000 + submitted, {})).add_done_callback(done.put)
            submitted += 1
        assert done.get(timeout=10).result().status == TrialStatus.DONE
        finished += 1
    rate = n / (time.perf_counter() - t0)
    record_property("trials_per_second", round(rate))
    # about 4,000-8,000/s measured; the bound is loose because the machine is shared
    assert rate > 500, rate


DRIVER = """
import os, subprocess, sys, time
from hyperhive.executors import Process, TrialTask

def objective(config):
    child = subprocess.Popen(["sleep", "1000"])
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(1000)

if __name__ == "__main__":
    with Process(1, start_method=sys.argv[2]) as ex:
        ex.start(objective, lambda *a: None)
        ex.submit(TrialTask(0, {})).result()
"""


def run_driver(tmp_path, method, end):
    """Run DRIVER in a session of its own, end it with ``end(proc)``, return the worker pids."""
    script, pids_file = tmp_path / "driver.py", tmp_path / "pids"
    script.write_text(DRIVER)
    src = os.path.dirname(os.path.dirname(os.path.abspath(ht.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    driver = subprocess.Popen(
        [sys.executable, str(script), str(pids_file), method],
        env=env,
        start_new_session=True,
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_until(pids_file.exists, 30)
        end(driver)
        driver.wait(20)
        return [int(p) for p in pids_file.read_text().split()], driver
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(10)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_killed_driver_leaves_no_workers(tmp_path, method):
    pids, _ = run_driver(tmp_path, method, lambda d: d.kill())
    assert wait_until(lambda: all(gone(p) for p in pids), 10)


def test_ctrl_c_in_the_driver_ends_the_workers(tmp_path):
    # a terminal's Ctrl-C: SIGINT to the driver's process group
    pids, driver = run_driver(tmp_path, "forkserver", lambda d: os.killpg(d.pid, signal.SIGINT))
    assert driver.returncode != 0 and b"KeyboardInterrupt" in driver.stderr.read()
    assert all(gone(p) for p in pids)


def _sleepy(config):
    time.sleep(config.get("sleep", 0.0))
    return float(os.getpid())


def test_prefetch_argument_is_checked():
    with pytest.raises(ValueError, match="prefetch.*-2"):
        Process(2, prefetch=-2)
    assert Process(2, prefetch=3).queue_slots() == 3
    assert Process(2).queue_slots() == 0  # nothing measured yet


def test_auto_prefetch_turns_on_for_short_trials_and_off_for_long_ones(make):
    ex = make(_sleepy, workers=2)
    pool = ex._pool
    assert ex.queue_slots() == 0
    pool.waits.waits.extend([0.004] * 8)  # 4 ms between two trials
    pool.waits.durations.extend([0.2] * 8)  # 0.2 s trials: 2% lost -> one queued per slot
    assert ex.queue_slots() == 2
    pool.waits.durations.extend([30.0] * 64)  # 30 s trials: 0.01% -> no queue
    assert ex.queue_slots() == 0


def test_slot_waits_are_measured_between_trials_only(make):
    ex = make(_sleepy, workers=1)
    for i in range(3):
        results(ex, [TrialTask(i, {"sleep": 0.05})])
        time.sleep(0.05)  # the slot waits for the next trial
    gaps = list(ex._pool.waits.waits)
    assert len(gaps) == 2  # the first trial's wait (start-up) is not a gap
    assert all(g >= 0.04 for g in gaps)
    assert len(ex._pool.waits.durations) == 3


def test_queued_trials_start_when_a_slot_frees(make):
    """A queued trial is handed over by the executor itself, right after the last ends."""
    ex = make(_sleepy, workers=1)
    outs = results(ex, [TrialTask(i, {"sleep": 0.1}) for i in range(4)])
    assert [o.status for o in outs] == [TrialStatus.DONE] * 4
    starts = sorted(o.started for o in outs)
    ends = sorted(o.finished for o in outs)
    # each next trial starts within a few ms of the previous one's end
    assert max(s - e for s, e in zip(starts[1:], ends[:-1], strict=True)) < 0.05


def test_search_with_prefetch_keeps_the_budget():
    import hyperhive as hh

    result = hh.search(
        _sleepy,
        hh.Space({"x": hh.Float(0.0, 1.0), "sleep": hh.Constant(0.05)}),
        executor=Process(2, prefetch=2),
        max_evals=16,
        optimizer="random",
        seed=0,
    )
    assert len(result.records) == 16 == result.n_counted
    assert 2 < max_in_flight(result.records) <= 4
