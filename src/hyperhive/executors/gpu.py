"""GPU placement: which devices a trial may see (``CUDA_VISIBLE_DEVICES``).

Each trial that asks for devices (``gpus_per_trial``) runs with
``CUDA_VISIBLE_DEVICES`` set to the devices of its worker slot, so frameworks
(PyTorch, TensorFlow, JAX) see only those, renumbered from 0. A slot keeps the same
devices from trial to trial. How the slot's devices are found depends on the engine:

* Ray assigns GPUs itself (``num_gpus`` per task) and sets the variable.
* Dask: a worker declares ``resources={"GPU": n}``; its devices are the worker's own
  ``CUDA_VISIBLE_DEVICES`` (or ``HYPERHIVE_DEVICES``) when set, else ``0 .. n-1``. A
  :class:`DevicePool` per worker process hands out groups of ``gpus_per_trial``.
* MPI: each worker rank is one slot; its group is chosen by its rank on the node.

Nothing here needs a GPU or a GPU library: devices are names (``"0"``, ``"1"``, or
UUIDs), so placement is tested by reading the variable.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

__all__ = [
    "DEVICES_ENV",
    "DevicePool",
    "device_list",
    "local_rank",
    "rank_devices",
    "visible_env",
]

#: Environment variable naming the devices a worker may hand out (overrides
#: ``CUDA_VISIBLE_DEVICES`` as the worker's device list).
DEVICES_ENV = "HYPERHIVE_DEVICES"
CUDA_ENV = "CUDA_VISIBLE_DEVICES"

#: Variables that launchers set to the rank of a process on its node.
_LOCAL_RANK_VARS = (
    "MPI_LOCALRANKID",  # MPICH (hydra)
    "OMPI_COMM_WORLD_LOCAL_RANK",  # Open MPI
    "PMI_LOCAL_RANK",
    "PALS_LOCAL_RANKID",  # Cray PALS
    "MV2_COMM_WORLD_LOCAL_RANK",  # MVAPICH
    "SLURM_LOCALID",  # srun
)


def device_list(devices: str | int | Sequence[str | int] | None = None) -> list[str] | None:
    """Normalize a device specification to a list of device names.

    Args:
        devices: ``"0,1"``, ``[0, 1]``, a count (``2`` means ``0, 1``), or None for
            the process's ``HYPERHIVE_DEVICES`` or ``CUDA_VISIBLE_DEVICES``.

    Returns:
        The device names, or None when nothing says which devices exist.

    Raises:
        ValueError: for a negative count.
    """
    if devices is None:
        for var in (DEVICES_ENV, CUDA_ENV):
            value = os.environ.get(var)
            if value is not None and value.strip():
                return device_list(value)
        return None
    if isinstance(devices, bool):
        raise ValueError(f"devices must be a list, a string or a count, got {devices!r}")
    if isinstance(devices, int):
        if devices < 0:
            raise ValueError(f"a device count must be >= 0, got {devices}")
        return [str(i) for i in range(devices)]
    if isinstance(devices, str):
        return [d.strip() for d in devices.split(",") if d.strip()]
    return [str(d).strip() for d in devices]


def _check_count(gpus_per_trial: int) -> int:
    if isinstance(gpus_per_trial, bool) or not isinstance(gpus_per_trial, int):
        raise ValueError(f"gpus_per_trial must be an integer here, got {gpus_per_trial!r}")
    if gpus_per_trial < 1:
        raise ValueError(f"gpus_per_trial must be >= 1, got {gpus_per_trial}")
    return gpus_per_trial


def visible_env(devices: Sequence[str]) -> dict[str, str]:
    """The environment that shows a trial only ``devices``."""
    return {CUDA_ENV: ",".join(devices)}


class DevicePool:
    """Hands out groups of devices to the trials that run at once in one worker process.

    The devices are cut into fixed groups of ``gpus_per_trial`` (devices left over
    are not used). :meth:`acquire` prefers the group the calling slot had before, so
    that a slot keeps its devices (and a killable child process started for them can
    be reused).

    Args:
        devices: the devices of this worker.
        gpus_per_trial: devices per trial.
    """

    def __init__(self, devices: Sequence[str], gpus_per_trial: int) -> None:
        g = _check_count(gpus_per_trial)
        devices = list(devices)
        if len(devices) < g:
            raise ValueError(
                f"a trial needs {g} device(s) but this worker has {len(devices)} ({devices})"
            )
        self.groups = [tuple(devices[i : i + g]) for i in range(0, len(devices) - g + 1, g)]
        self._free = list(range(len(self.groups)))
        self._last: dict[int, int] = {}  # slot (thread id) -> group it had
        self._lock = threading.Lock()

    def acquire(self, slot: int) -> tuple[str, ...] | None:
        """A free group for ``slot`` (None when all are taken)."""
        with self._lock:
            if not self._free:
                return None
            want = self._last.get(slot)
            index = want if want in self._free else self._free[0]
            self._free.remove(index)
            self._last[slot] = index
            return self.groups[index]

    def release(self, group: tuple[str, ...]) -> None:
        """Give back a group that :meth:`acquire` returned."""
        with self._lock:
            index = self.groups.index(group)
            if index not in self._free:
                self._free.append(index)


def local_rank() -> int | None:
    """This process's rank on its node, from the launcher's environment (None if unknown)."""
    for var in _LOCAL_RANK_VARS:
        value = os.environ.get(var)
        if value is not None and value.strip().isdigit():
            return int(value)
    return None


def rank_devices(devices: Sequence[str], gpus_per_trial: int, rank: int) -> tuple[str, ...]:
    """The device group of a worker rank: group ``rank mod groups``.

    Args:
        devices: the devices of the node.
        gpus_per_trial: devices per trial.
        rank: the rank of the worker on its node (see :func:`local_rank`).
    """
    pool = DevicePool(devices, gpus_per_trial)
    return pool.groups[rank % len(pool.groups)]
