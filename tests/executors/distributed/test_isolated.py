"""The worker-side pieces shared by the remote executors, without any engine:
killable child processes, the trial runner and GPU placement."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import cloudpickle
import pytest
from dist_helpers import alive, make_objective, wait_until

from hyperhive.executors import TrialTask
from hyperhive.executors._isolated import host_for_thread, release_hosts
from hyperhive.executors._protocol import outcome_from_wire, task_to_wire
from hyperhive.executors.channel import Flags
from hyperhive.executors.gpu import DevicePool, device_list, local_rank, rank_devices
from hyperhive.executors.remote import execute
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

PAYLOAD = cloudpickle.dumps(make_objective())


@pytest.fixture(autouse=True, scope="module")
def _no_children_left():
    yield
    release_hosts()


def run(task: TrialTask, flags: Flags | None = None, isolate: bool = True, **kw):
    forwarded: list = []
    wire, reports = execute(
        "k1", lambda: PAYLOAD, task_to_wire(task), control=flags or Flags(), worker="w0",
        isolate=isolate, grace=0.5, forward=lambda *a: forwarded.append(a), **kw,
    )  # fmt: skip
    return outcome_from_wire(wire), reports, forwarded


def test_in_worker_and_in_child_give_the_same_outcome():
    for isolate in (False, True):
        out, reports, forwarded = run(TrialTask(1, {"x": 3.0}), isolate=isolate)
        assert out.status == TrialStatus.DONE and out.objective == 9.0
        assert out.worker == "w0"
        assert [(s, v) for s, v, _ in reports] == [(0, 3.0), (1, 4.0), (2, 5.0)]
        assert [a[1:4] for a in forwarded] == [(0, 0, 3.0), (1, 1, 4.0), (2, 2, 5.0)]
        assert (out.metadata["pid"] == os.getpid()) is not isolate


def test_child_is_reused_and_restarted_for_a_new_environment():
    first, _, _ = run(TrialTask(1, {"x": 1.0}))
    again, _, _ = run(TrialTask(2, {"x": 1.0}))
    assert first.metadata["pid"] == again.metadata["pid"]
    gpu, _, _ = run(TrialTask(3, {"x": 1.0}), env={"CUDA_VISIBLE_DEVICES": "7"})
    assert gpu.metadata["cuda"] == "7" and gpu.metadata["pid"] != first.metadata["pid"]
    assert release_hosts() == 1
    assert wait_until(lambda: not alive(gpu.metadata["pid"]), 5)


def test_timeout_kills_the_process_group():
    t0 = time.monotonic()
    out, reports, _ = run(TrialTask(1, {"x": 1.0, "hang": True}, timeout=0.5))
    assert out.status == TrialStatus.TIMEOUT and time.monotonic() - t0 < 10
    grandchild = int(next(v for s, v, _ in reports if s == -1))
    assert wait_until(lambda: not alive(grandchild), 5)


def test_kill_flag_and_stop_flag():
    flags = Flags()
    threading.Timer(0.5, lambda: setattr(flags, "kill", True)).start()
    out, _, _ = run(TrialTask(1, {"x": 1.0, "sleep": 30.0}, timeout=60), flags)
    assert out.status == TrialStatus.CANCELLED
    flags = Flags()
    threading.Timer(0.5, lambda: setattr(flags, "stop", True)).start()
    out, _, _ = run(TrialTask(2, {"x": 1.0, "sleep": 30.0}, timeout=60), flags)
    assert out.status == TrialStatus.STOPPED and out.objective == 1.0
    killed = Flags()
    killed.kill = True  # cancelled before it started: nothing runs
    out, reports, _ = run(TrialTask(3, {"x": 1.0}), killed)
    assert out.status == TrialStatus.CANCELLED and reports == []


def test_child_that_dies_is_lost_and_replaced():
    def die(config):
        os.kill(os.getpid(), signal.SIGKILL)

    wire, _ = execute(
        "die", lambda: cloudpickle.dumps(die), task_to_wire(TrialTask(1, {}, timeout=30)),
        control=Flags(), worker="w0", isolate=True,
    )  # fmt: skip
    out = outcome_from_wire(wire)
    assert out.status == TrialStatus.LOST and "SIGKILL" in out.reason
    ok, _, _ = run(TrialTask(2, {"x": 2.0}))
    assert ok.status == TrialStatus.DONE


def test_objective_that_cannot_load_fails():
    for isolate in (False, True):
        wire, _ = execute(
            f"bad-{isolate}", lambda: b"not a pickle", task_to_wire(TrialTask(1, {})),
            control=Flags(), worker="w0", isolate=isolate,
        )  # fmt: skip
        out = outcome_from_wire(wire)
        assert out.status == TrialStatus.FAILED and "could not be loaded" in out.reason


def test_children_die_with_their_worker(tmp_path):
    """A worker killed with SIGKILL takes its trial's child process group with it."""
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import cloudpickle, sys
            sys.path.insert(0, {os.path.dirname(__file__)!r})
            from dist_helpers import make_objective
            from hyperhive.executors import TrialTask
            from hyperhive.executors.remote import execute
            from hyperhive.executors._protocol import task_to_wire
            from hyperhive.executors.channel import Flags

            def forward(tid, seq, step, value, t):
                print(int(value), flush=True)

            execute("k", lambda: cloudpickle.dumps(make_objective()),
                    task_to_wire(TrialTask(1, {{"x": 0.0, "hang": True}}, timeout=600)),
                    control=Flags(), worker="w", isolate=True, forward=forward)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(4)]
    grandchild = int(lines[3])
    assert alive(grandchild)
    proc.kill()
    proc.wait()
    assert wait_until(lambda: not alive(grandchild), 10)


def test_device_helpers(monkeypatch):
    monkeypatch.delenv("HYPERHIVE_DEVICES", raising=False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 3")
    assert device_list(None) == ["2", "3"]
    monkeypatch.setenv("HYPERHIVE_DEVICES", "GPU-a,GPU-b")
    assert device_list(None) == ["GPU-a", "GPU-b"]
    assert device_list(3) == ["0", "1", "2"] and device_list([0, "1"]) == ["0", "1"]
    monkeypatch.delenv("HYPERHIVE_DEVICES")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert device_list(None) is None
    with pytest.raises(ValueError):
        device_list(-1)

    pool = DevicePool(["0", "1", "2", "3", "4"], 2)
    assert pool.groups == [("0", "1"), ("2", "3")]
    a, b = pool.acquire(slot=1), pool.acquire(slot=2)
    assert {a, b} == {("0", "1"), ("2", "3")} and pool.acquire(slot=3) is None
    pool.release(a)
    pool.release(b)
    assert pool.acquire(slot=2) == b  # a slot keeps its devices
    with pytest.raises(ValueError):
        DevicePool(["0"], 2)

    assert [rank_devices(["0", "1", "2"], 1, r) for r in range(4)] == [
        ("0",),
        ("1",),
        ("2",),
        ("0",),
    ]
    for var in ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK",
                "PALS_LOCAL_RANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)
    assert local_rank() is None
    monkeypatch.setenv("SLURM_LOCALID", "5")
    assert local_rank() == 5


def test_host_per_thread():
    hosts = []
    t = threading.Thread(target=lambda: hosts.append(host_for_thread()))
    t.start()
    t.join()
    assert hosts[0] is not host_for_thread()
    assert host_for_thread() is host_for_thread()
