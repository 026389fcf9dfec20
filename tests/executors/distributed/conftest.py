"""Real local clusters for the distributed executor tests, each started once per session.

This folder has no ``__init__.py`` on purpose: ``tests/executors`` has none either, so
pytest puts ``tests/executors`` on ``sys.path``, and a package named ``distributed``
there would shadow Dask's ``distributed``. As a plain folder it is only a namespace
portion, which the real package wins over.

Under ``CI=true`` a missing engine fails the tests instead of skipping them.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

CI = os.environ.get("CI") == "true"
SLOTS = 8


def need(module: str) -> ModuleType:
    """Import ``module``; skip when it is missing, except under CI=true (fail)."""
    if CI:
        return importlib.import_module(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def dask_cluster():
    """A LocalCluster with 8 single-threaded worker processes."""
    need("distributed.client")
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=SLOTS,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit=0,
    )
    yield cluster
    cluster.close()


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray with 8 CPUs and 2 fake GPUs, and a small object store."""
    ray = need("ray")
    ray.init(
        num_cpus=SLOTS,
        num_gpus=2,
        object_store_memory=80 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def mpirun() -> list[str]:
    """The mpirun command (with the flags Open MPI needs as root)."""
    need("mpi4py")
    bindir = str(Path(sys.executable).parent)
    path = bindir + os.pathsep + os.environ.get("PATH", "")
    exe = shutil.which("mpirun", path=path) or shutil.which("mpiexec", path=path)
    if exe is None:
        if CI:
            pytest.fail("mpirun not found (pip install mpich)")
        pytest.skip("mpirun not found")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    cmd = [exe]
    if "Open MPI" in version.stdout + version.stderr:
        cmd += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]
    return cmd
