"""The executor contract for MPI, run by ``test_contract.py::test_mpi_contract`` under
``mpirun -n 3 python -m mpi4py.futures -m pytest`` (not collected on its own)."""

from __future__ import annotations

from hyperhive.executors import Executor
from hyperhive.testing import ExecutorContract


class TestMPIContract(ExecutorContract):
    def make_executor(self, workers: int) -> Executor:
        import hyperhive as hh

        return hh.executors.MPI(grace_period=0.5)
