"""The executor contract (:class:`hyperhive.testing.ExecutorContract`) for the executors
that need no cluster: serial, thread and process. Dask, Ray and MPI run it in
``distributed/test_contract.py``."""

from __future__ import annotations

import sys

import pytest

from hyperhive.executors import Executor, Process, Serial, Thread
from hyperhive.testing import ExecutorContract


class TestSerialContract(ExecutorContract):
    workers = 1

    def make_executor(self, workers: int) -> Executor:
        return Serial(workers)


class TestThreadContract(ExecutorContract):
    def make_executor(self, workers: int) -> Executor:
        return Thread(workers)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
class TestProcessContract(ExecutorContract):
    def make_executor(self, workers: int) -> Executor:
        return Process(workers, grace_period=0.5)
