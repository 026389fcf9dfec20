"""The one-driver lock: exclusive, names its holder, released by the OS when the holder dies."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from hyperhive.storage import DriverLock, RunDir, RunLockedError

HOLD = textwrap.dedent(
    """
    import sys, time
    from hyperhive.storage import DriverLock
    lock = DriverLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_a_second_holder_is_refused_with_the_holders_host_and_pid(tmp_path):
    path = RunDir(tmp_path / "run").lock_path
    first, second = DriverLock(path), DriverLock(path)
    assert second.holder() == {}
    first.acquire()
    first.acquire()  # already held: nothing happens
    assert first.held and first.holder()["pid"] == os.getpid()
    with pytest.raises(RunLockedError) as info:
        second.acquire()
    assert isinstance(info.value, RuntimeError) and not second.held
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and socket.gethostname() in message
    assert str(tmp_path / "run") in message and "\n" not in message
    assert info.value.holder["host"] == socket.gethostname()
    assert second.holder()["pid"] == os.getpid()
    first.release()
    first.release()  # not held: nothing happens
    assert path.exists() and second.holder() == {}
    with second:
        assert second.held
    assert not second.held


def test_kill_9_of_the_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "driver.lock"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match=f"pid {proc.pid} on host"):
            DriverLock(path).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    lock = DriverLock(path)
    lock.acquire()  # the kernel released it with the process
    assert lock.holder()["pid"] == os.getpid()
    lock.release()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_keep_the_lock(tmp_path):
    path = tmp_path / "driver.lock"
    lock = DriverLock(path)
    lock.acquire()
    child = multiprocessing.get_context("fork").Process(target=_sleep, args=(30.0,))
    child.start()
    try:
        time.sleep(0.2)  # the child has run its at-fork hook
        lock.release()
        other = DriverLock(path)
        other.acquire()  # the live child does not hold the parent's lock
        other.release()
    finally:
        child.kill()
        child.join(10)


def test_a_file_system_without_locks_warns_and_runs(tmp_path, monkeypatch, caplog):
    import errno

    from hyperhive.storage import lock as lock_module

    def no_locks(fd: int) -> bool:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock_module, "_try_lock", no_locks)
    lock = DriverLock(tmp_path / "driver.lock")
    with caplog.at_level("WARNING", logger="hyperhive"):
        lock.acquire()
    assert lock.held and "not enforced" in caplog.text
    assert DriverLock(tmp_path / "driver.lock").holder() == {}
    lock.release()
