"""The executor contract (:class:`hyperhive.testing.ExecutorContract`) for Dask, Ray and
MPI. Dask and Ray share the session's clusters (``conftest.py``); MPI runs the suite
under ``mpirun`` (rank 0 runs pytest, the other ranks are the workers), in
``mpi_contract.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hyperhive.executors import Executor
from hyperhive.testing import ExecutorContract

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


class TestDaskContract(ExecutorContract):
    @pytest.fixture(autouse=True)
    def _cluster(self, dask_cluster: Any) -> None:
        self.address = dask_cluster.scheduler_address

    def make_executor(self, workers: int) -> Executor:
        import hyperhive as hh

        return hh.executors.Dask(workers, address=self.address, grace_period=0.5)


class TestRayContract(ExecutorContract):
    @pytest.fixture(autouse=True)
    def _cluster(self, ray_cluster: Any) -> None:
        pass

    def make_executor(self, workers: int) -> Executor:
        import hyperhive as hh

        return hh.executors.Ray(workers, grace_period=0.5)


def test_mpi_contract(mpirun: list[str]) -> None:
    """The whole suite on 2 worker ranks; every test passes or is skipped by capability."""
    script = Path(__file__).with_name("mpi_contract.py")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    cmd = [*mpirun, "-n", "3", sys.executable, "-m", "mpi4py.futures", "-m", "pytest"]
    cmd += ["-q", "-rs", "-p", "no:cacheprovider", str(script)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "6 passed, 1 skipped" in out, out
    assert "MPI lacks the 'lost' capability" in out, out
