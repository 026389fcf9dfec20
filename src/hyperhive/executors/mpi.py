"""The MPI executor: trials run on the ranks of an MPI job (``mpi4py.futures``).

Install with ``pip install "hyperhive[mpi]"`` (``mpi4py`` and the ``mpich`` wheel;
a system MPI works too). Nothing here imports mpi4py until :meth:`MPI.start`.

Launch the search script with::

    mpirun -n 9 python -m mpi4py.futures search.py      # or: srun -n 9 python -m ...

Rank 0 runs the script (the driver); ranks 1..N-1 are the workers, so ``workers`` is
N-1. In this mode a side channel on ``COMM_WORLD`` (tags of its own, not used by
``mpi4py.futures``) carries "started" notices and live ``hh.report`` values to rank 0,
stop and kill requests to the worker rank, and the pickled objective to each rank
that does not have it yet (sent once per rank). It needs ``MPI_THREAD_MULTIPLE``
(mpi4py's default).

Started without ``mpirun`` (one process), ``MPIPoolExecutor`` spawns ``workers``
ranks with ``MPI_Comm_spawn``; then there is no side channel: reports arrive with the
outcome, ``hh.should_stop`` stays False and a running trial cannot be cancelled.

MPI cannot kill a task, so trials with ``trial_timeout`` (or ``isolate=True``) run
in a killable child process of the rank. When a rank dies, most MPI implementations
end the whole job: with a ``run_dir`` every finished trial is in the journal, and
running the same command again resumes the search.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
import weakref
from typing import Any

from hyperhive.executors.base import HyperhiveWarning
from hyperhive.executors.channel import Flags
from hyperhive.executors.cluster import ClusterExecutor, TrialEntry
from hyperhive.executors.gpu import CUDA_ENV, device_list, local_rank, rank_devices
from hyperhive.executors.remote import execute
from hyperhive.trial import TrialStatus

__all__ = ["MPI"]

#: Side-channel tags on COMM_WORLD: worker to rank 0, rank 0 to worker, objective bytes.
TAG_UP, TAG_DOWN, TAG_PAYLOAD = 18_470, 18_471, 18_472


class MPI(ClusterExecutor):
    """Runs trials on MPI ranks with ``mpi4py.futures.MPIPoolExecutor``.

    Args:
        workers: worker ranks to spawn when not launched under ``mpirun``; under
            ``mpirun -n N python -m mpi4py.futures`` the N-1 worker ranks are used (a
            different value only warns).
        gpus_per_trial: GPUs per worker rank: each rank sets ``CUDA_VISIBLE_DEVICES``
            to group ``local_rank mod groups`` of the node's devices.
        devices: the node's devices (``"0,1,2,3"``, a list or a count); None reads
            ``HYPERHIVE_DEVICES`` or ``CUDA_VISIBLE_DEVICES`` on each rank.
        isolate: run every trial in a killable child process of its rank (None: only
            with ``trial_timeout``).
        grace_period: seconds between SIGTERM and SIGKILL when a trial is ended.
        pool_options: more keyword arguments for ``MPIPoolExecutor``.
    """

    name = "mpi"

    def __init__(
        self,
        workers: int | None = None,
        *,
        gpus_per_trial: int = 0,
        devices: str | int | list[str | int] | None = None,
        isolate: bool | None = None,
        grace_period: float = 2.0,
        pool_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(workers, isolate, grace_period)
        if isinstance(gpus_per_trial, bool) or not isinstance(gpus_per_trial, int):
            raise ValueError(f"gpus_per_trial must be an integer, got {gpus_per_trial!r}")
        if gpus_per_trial < 0:
            raise ValueError(f"gpus_per_trial must be >= 0, got {gpus_per_trial}")
        self.gpus_per_trial = gpus_per_trial
        self.devices = device_list(devices) if devices is not None else None
        self.pool_options = dict(pool_options or {})
        self.side_channel = False
        self._pool: Any = None
        self._comm: Any = None

    def connect(self) -> None:
        from mpi4py import MPI as _MPI
        from mpi4py.futures import MPIPoolExecutor

        world = _MPI.COMM_WORLD
        if world.Get_size() > 1:
            if world.Get_rank() != 0:
                raise RuntimeError(
                    "the MPI executor runs on rank 0: launch the script with "
                    "`mpirun -n N python -m mpi4py.futures script.py`"
                )
            n = world.Get_size() - 1
            asked = self.requested_workers
            if asked is not None and asked not in (1, n):
                warnings.warn(
                    f"workers={asked} is ignored: this MPI job has {n} worker ranks",
                    HyperhiveWarning,
                    stacklevel=4,
                )
            self.workers = n
            self.side_channel = _MPI.Query_thread() == _MPI.THREAD_MULTIPLE
            self._pool = MPIPoolExecutor(**self.pool_options)
        else:
            self.workers = self.requested_workers or 1
            self._pool = MPIPoolExecutor(max_workers=self.workers, **self.pool_options)
        self._comm = world
        # a rank that dies ends the whole MPI job: no "lost"; without the side channel
        # (spawned ranks) stop requests cannot reach a running trial
        self.capabilities = frozenset({"kill", "stop"} if self.side_channel else {"kill"})
        if self.side_channel:
            _Pump.register(self)

    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        fut = self._pool.submit(
            _mpi_trial,
            self.run_id,
            self.key,
            None if self.side_channel else self.payload,
            task_wire,
            isolate,
            self.grace_period,
            self.side_channel,
            self.gpus_per_trial,
            self.devices,
        )
        fut.add_done_callback(lambda f: self._on_done(trial_id, f))
        return fut

    def _on_done(self, trial_id: int, fut: Any) -> None:
        if fut.cancelled():
            self.trial_failed(trial_id, TrialStatus.CANCELLED, "cancelled before it started")
            return
        exc = fut.exception()
        if exc is not None:
            self.trial_failed(trial_id, TrialStatus.FAILED, f"the MPI task failed: {exc!r}")
            return
        outcome_wire, reports = fut.result()
        self.trial_finished(trial_id, outcome_wire, reports)

    def abort(self, entry: TrialEntry) -> None:
        if entry.handle is not None:
            entry.handle.cancel()
        if entry.where is not None:
            self.signal(entry, "kill")

    def signal(self, entry: TrialEntry, what: str) -> None:
        if self.side_channel and entry.where is not None:
            msg = (what, self.run_id, entry.task.trial_id)
            self._comm.send(msg, dest=entry.where, tag=TAG_DOWN)

    def disconnect(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self.side_channel:
            _Pump.unregister(self)


class _Pump:
    """Rank 0: one thread that serves the side channel of every MPI executor."""

    executors: weakref.WeakValueDictionary[str, MPI] = weakref.WeakValueDictionary()
    lock = threading.Lock()
    thread: threading.Thread | None = None

    @classmethod
    def register(cls, executor: MPI) -> None:
        with cls.lock:
            cls.executors[executor.run_id] = executor
            if cls.thread is None or not cls.thread.is_alive():
                cls.thread = threading.Thread(target=cls.serve, name="hyperhive-mpi", daemon=True)
                cls.thread.start()

    @classmethod
    def unregister(cls, executor: MPI) -> None:
        with cls.lock:
            cls.executors.pop(executor.run_id, None)

    @classmethod
    def serve(cls) -> None:
        from mpi4py import MPI as _MPI

        comm = _MPI.COMM_WORLD
        status = _MPI.Status()
        idle = 0.0005
        while True:
            with cls.lock:
                if not cls.executors:
                    cls.thread = None
                    return
            if not comm.iprobe(source=_MPI.ANY_SOURCE, tag=TAG_UP, status=status):
                time.sleep(idle)
                idle = min(idle * 2, 0.01)
                continue
            idle = 0.0005
            msg = comm.recv(source=status.Get_source(), tag=TAG_UP)
            executor = cls.executors.get(msg[1])
            if msg[0] == "need":  # answer even for a closed executor: the rank waits
                payload = executor.payload if executor is not None else b""
                comm.send(payload, dest=msg[3], tag=TAG_PAYLOAD)
            elif executor is None:
                continue
            elif msg[0] == "report":
                executor.trial_report(*msg[2:])
            elif msg[0] == "start":
                executor.trial_started(msg[2], msg[3])


# -- worker side --------------------------------------------------------------------------------

_flags: dict[tuple[str, int], Flags] = {}


def _poll_down(comm: Any) -> None:
    """Apply the stop/kill requests rank 0 sent to this rank."""
    while comm.iprobe(source=0, tag=TAG_DOWN):
        what, run, trial_id = comm.recv(source=0, tag=TAG_DOWN)
        flags = _flags.get((run, trial_id))
        if flags is not None:
            setattr(flags, what, True)


def _fetch(comm: Any, run: str, key: str) -> bytes:
    """Ask rank 0 for the pickled objective (once per rank and objective)."""
    comm.send(("need", run, key, comm.Get_rank()), dest=0, tag=TAG_UP)
    wait = 0.0005
    while not comm.iprobe(source=0, tag=TAG_PAYLOAD):
        time.sleep(wait)
        wait = min(wait * 2, 0.01)
    payload = comm.recv(source=0, tag=TAG_PAYLOAD)
    if not payload:
        raise RuntimeError("the driver has closed this executor")
    return payload


_gpu_env: dict[str, str] | None = None


def _rank_env(gpus: int, devices: list[str] | None, rank: int) -> dict[str, str] | None:
    """Set (once) and return this rank's ``CUDA_VISIBLE_DEVICES``."""
    global _gpu_env
    if not gpus:
        return None
    if _gpu_env is None:
        devs = devices if devices is not None else device_list(None)
        if not devs:
            raise RuntimeError(
                "gpus_per_trial is set but the devices are unknown: pass MPI(devices=...) "
                "or set HYPERHIVE_DEVICES / CUDA_VISIBLE_DEVICES for the ranks"
            )
        where = local_rank()
        group = rank_devices(devs, gpus, rank if where is None else where)
        _gpu_env = {CUDA_ENV: ",".join(group)}
        os.environ.update(_gpu_env)
    return _gpu_env


def _mpi_trial(
    run: str,
    key: str,
    payload: bytes | None,
    task_wire: Any,
    isolate: bool,
    grace: float,
    side: bool,
    gpus: int,
    devices: list[str] | None,
) -> tuple[Any, Any]:
    """Worker side: run one trial on this rank."""
    from mpi4py import MPI as _MPI

    comm = _MPI.COMM_WORLD
    rank = comm.Get_rank()
    trial_id = task_wire[0]
    worker = f"mpi-rank-{rank}" if side else f"mpi-spawned-{rank}"
    env = _rank_env(gpus, devices, rank)
    if not side:
        return execute(
            key, lambda: payload or b"", task_wire, control=Flags(), worker=worker,
            isolate=isolate, grace=grace, env=env,
        )  # fmt: skip
    flags = Flags(poll=lambda: _poll_down(comm))
    _flags[(run, trial_id)] = flags
    try:
        comm.send(("start", run, trial_id, rank), dest=0, tag=TAG_UP)

        def forward(tid: int, seq: int, step: int | None, value: Any, t: float) -> None:
            comm.send(("report", run, tid, seq, step, value, t), dest=0, tag=TAG_UP)

        return execute(
            key, lambda: _fetch(comm, run, key), task_wire, control=flags, worker=worker,
            isolate=isolate, grace=grace, forward=forward, env=env,
        )  # fmt: skip
    finally:
        _flags.pop((run, trial_id), None)
