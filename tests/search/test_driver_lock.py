"""One driver per run: ``hh.search`` holds the run directory's lock; a second driver is
refused (before it writes anything), readers and decentralized peers are not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import hyperhive as hh
from hyperhive.storage import DriverLock, RunDir, RunLockedError, SQLiteStore

SPACE = hh.Space({"x": hh.Float(0.0, 1.0)})

DRIVER = textwrap.dedent(
    """
    import sys, time
    import hyperhive as hh

    def objective(config):
        time.sleep(0.1)
        return config["x"]

    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    if __name__ == "__main__":
        hh.search(objective, space, max_evals=int(sys.argv[2]), workers=2, executor="thread",
                  optimizer="random", run_dir=sys.argv[1], seed=0)
    """
)


def _objective(config):
    return config["x"]


def _ended(run_dir) -> int:
    if not RunDir.exists(run_dir):
        return 0
    store = SQLiteStore(run_dir / RunDir.JOURNAL)
    try:
        return sum(1 for _, ev in store.events() if ev["kind"] == "end")
    finally:
        store.close()


def test_a_second_search_is_refused_before_writing_anything(tmp_path):
    run_dir = tmp_path / "run"
    held = RunDir(run_dir).driver_lock()
    held.acquire()
    try:
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()} on host"):
            hh.search(_objective, SPACE, max_evals=3, run_dir=run_dir)
        assert sorted(p.name for p in run_dir.iterdir()) == ["driver.lock"]
    finally:
        held.release()
    res = hh.search(_objective, SPACE, max_evals=3, run_dir=run_dir, seed=0)
    assert res.n_counted == 3
    assert DriverLock(run_dir / "driver.lock").holder() == {}  # released at the end


def test_the_lock_is_released_when_the_search_fails_to_start(tmp_path):
    run_dir = tmp_path / "run"
    hh.search(_objective, SPACE, max_evals=2, run_dir=run_dir, seed=0)
    with pytest.raises(ValueError, match="direction"):
        hh.search(_objective, SPACE, direction="maximize", max_evals=3, run_dir=run_dir)

    def boom(trial, state):
        raise KeyError("a callback broke")

    with pytest.raises(KeyError):
        hh.search(_objective, SPACE, max_evals=4, run_dir=run_dir, callbacks=[boom])
    assert hh.search(_objective, SPACE, max_evals=5, run_dir=run_dir).n_counted == 5


def test_concurrent_searches_in_one_process(tmp_path):
    run_dir, errors = tmp_path / "run", []
    started = threading.Event()

    def slow(config):
        started.set()
        time.sleep(0.05)
        return config["x"]

    def first() -> None:
        hh.search(slow, SPACE, max_evals=20, run_dir=run_dir, seed=0, optimizer="random")

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    try:
        hh.search(_objective, SPACE, max_evals=40, run_dir=run_dir)
    except RunLockedError as exc:
        errors.append(exc)
    thread.join(60)
    assert len(errors) == 1
    assert hh.load(run_dir).n_counted == 20


def test_peers_are_not_affected_by_the_lock(tmp_path):
    run_dir = tmp_path / "run"
    held = RunDir(run_dir).driver_lock()
    held.acquire()
    try:
        res = hh.worker(_objective, SPACE, run_dir=run_dir, max_evals=3, seed=0, peer="A")
        assert res.n_counted == 3
    finally:
        held.release()


def test_kill_9_of_a_driver_readers_work_and_a_new_driver_resumes(tmp_path):
    """The issue's reproduction, in the library: a second driver started while the first
    runs used to mark the first's trials lost and double the count."""
    script, run_dir = tmp_path / "driver.py", tmp_path / "run"
    script.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, str(script), str(run_dir), "30"]
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while _ended(run_dir) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None and _ended(run_dir) >= 4
        # readers work while the driver holds the run
        loaded = hh.load(run_dir)
        assert 4 <= loaded.n_counted < 30
        # a second driver is refused and changes nothing
        with pytest.raises(RunLockedError, match=f"pid {proc.pid} on host"):
            hh.search(_objective, SPACE, max_evals=30, run_dir=run_dir)
        assert not any(t.status == hh.TrialStatus.LOST for t in hh.load(run_dir).records)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    # no stale lock after kill -9: the next driver resumes, re-runs the running trials
    res = hh.search(_objective, SPACE, max_evals=30, run_dir=run_dir, optimizer="random")
    assert res.n_counted == 30
    for lost in (t for t in res.records if t.status == hh.TrialStatus.LOST):
        (rerun,) = [t for t in res.records if t.retry_of == lost.id]
        assert rerun.config == lost.config and rerun.status == hh.TrialStatus.DONE
