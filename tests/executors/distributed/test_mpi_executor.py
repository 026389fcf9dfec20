"""The MPI executor under ``mpirun -n 4 python -m mpi4py.futures`` (rank 0 drives)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hyperhive as hh
from hyperhive.executors import get_executor
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

SCRIPT = Path(__file__).with_name("mpi_search.py")


def launch(mpirun: list[str], run_dir: Path, max_evals: int, mode: str, timeout: float = 120):
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    cmd = [*mpirun, "-n", "4", sys.executable, "-m", "mpi4py.futures", str(SCRIPT)]
    if not mpirun:  # one process that spawns its workers
        cmd = [sys.executable, str(SCRIPT)]
    return subprocess.run(
        [*cmd, str(run_dir), str(max_evals), mode],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_by_name_and_lazy_class():
    ex = get_executor("mpi", 2)
    assert isinstance(ex, hh.executors.MPI) and ex.requested_workers == 2


def test_search_timeouts_and_gpu_ranks(mpirun, tmp_path):
    """Exact budget on ranks 1..3, live reports, a trial killed at trial_timeout, and
    each rank's own device."""
    run_dir = tmp_path / "run"
    proc = launch(mpirun, run_dir, 12, "plain")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = hh.load(run_dir).records
    assert sum(t.status.counted for t in records) == 12
    by_status = {s: [t for t in records if t.status == s] for s in TrialStatus}
    assert [t.id for t in by_status[TrialStatus.TIMEOUT]] == [3]
    assert len(by_status[TrialStatus.DONE]) == 11
    devices: dict[str, set[str]] = {}
    for t in records:
        assert t.worker in {"mpi-rank-1", "mpi-rank-2", "mpi-rank-3"}
        assert [r.value for r in t.reports] == [t.config["x"] + s for s in range(3)]
        if t.status == TrialStatus.DONE:
            devices.setdefault(t.worker, set()).add(t.metadata["cuda"])
    # devices "0,1,2", one per rank: rank r (local rank r on one node) has device r mod 3
    assert len(devices) >= 2
    assert devices == {w: {str(int(w.rsplit("-", 1)[1]) % 3)} for w in devices}


def test_job_killed_then_relaunched_resumes(mpirun, tmp_path):
    """A rank killed mid-trial ends the whole MPI job; the same command resumes it."""
    run_dir = tmp_path / "run"
    first = launch(mpirun, run_dir, 16, "kill")
    assert first.returncode != 0
    assert (tmp_path / "run.killed").exists()
    before = hh.load(run_dir).records
    finished = {t.id for t in before if t.status.counted}
    assert 0 < len(finished) < 16

    second = launch(mpirun, run_dir, 16, "kill")
    assert second.returncode == 0, second.stdout + second.stderr
    after = hh.load(run_dir).records
    assert sum(t.status.counted for t in after) == 16
    assert all(t.status == TrialStatus.DONE for t in after if t.status.counted)
    lost = [t for t in after if t.status == TrialStatus.LOST]
    assert lost and all(any(r.retry_of == t.id for r in after) for t in lost)
    # every trial finished before the kill is kept as it was
    kept = {t.id: t for t in after}
    for t in before:
        if t.id in finished:
            assert kept[t.id].status == t.status and kept[t.id].objective == t.objective


def test_spawned_workers_without_mpirun(mpirun, tmp_path):
    """Run as one process, the executor spawns its worker ranks (MPI_Comm_spawn)."""
    run_dir = tmp_path / "run"
    proc = launch([], run_dir, 6, "spawn")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = hh.load(run_dir).records
    assert sum(t.status == TrialStatus.DONE for t in records) == 6 == len(records)
    assert {t.worker for t in records} <= {"mpi-spawned-0", "mpi-spawned-1"}
    for t in records:  # no side channel: the reports come back with the outcome
        assert [r.value for r in t.reports] == [t.config["x"] + s for s in range(3)]
