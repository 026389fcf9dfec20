"""The Dask executor: trials run on the workers of a ``distributed`` cluster.

Install with ``pip install "hyperhive[dask]"``. Nothing here imports Dask until
:meth:`Dask.start`.

How it works:

* The objective is pickled once (cloudpickle), sent to the workers there are when the
  search starts (``Client.run``) and stored in a Dask ``Variable`` on the scheduler for
  workers that join later; each worker process unpickles it once.
* Each trial is one task, submitted with ``pure=False``, ``retries=0`` and the
  trial's resources. The scheduler's ``allowed_failures`` is set to 0, so a worker
  that dies while running a trial ends it as ``lost`` at once (Dask does not re-run it
  behind hyperhive's back); hyperhive re-runs it (``max_retries``).
* ``hh.report`` values are sent live to the driver as worker events
  (``Worker.log_event`` on a topic of this executor, ``Client.subscribe_topic``) and
  also returned with the outcome; the driver keeps each once. The outcome itself comes
  back as an event too (no gather round trip); the task's result is the fallback.
* ``hh.should_stop`` and cancellation reach the worker running the trial with
  ``Client.run`` (a flag in the worker process; nothing polls the scheduler).
* Without ``trial_timeout`` a trial runs in the worker's thread (no per-trial
  process). With it (or ``isolate=True``, or GPUs) it runs in a killable child
  process of the worker, reused for the next trials of that worker thread.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hyperhive.executors._prefetch import check_prefetch
from hyperhive.executors.base import TrialTask
from hyperhive.executors.channel import Flags
from hyperhive.executors.cluster import ClusterExecutor, TrialEntry
from hyperhive.executors.gpu import DevicePool, device_list, visible_env
from hyperhive.executors.remote import execute
from hyperhive.trial import TrialStatus

__all__ = ["Dask"]

#: Dask settings of the LocalCluster started here: no engine retries, and no statistical
#: profiler in the workers (it samples every thread every 10 ms; trials do not need it).
_LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.worker.profile.enabled": False,
}

#: Exceptions (by class name) that mean the trial's worker went away.
_LOST = {"KilledWorker", "FutureCancelledError", "CancelledError", "CommClosedError"}


class Dask(ClusterExecutor):
    """Runs trials as tasks on a Dask ``distributed`` cluster.

    Args:
        workers: trials in flight. Without ``address``/``client`` it is also the
            number of single-threaded workers of the ``LocalCluster`` started here
            (default: one per CPU). With a cluster, None means one per worker thread
            (or per ``gpus_per_trial`` GPUs declared by the workers).
        address: a scheduler address (``"tcp://host:8786"``) or a cluster object
            (``LocalCluster``, a dask-jobqueue cluster).
        client: an existing ``distributed.Client`` (not closed at shutdown).
        gpus_per_trial: GPUs per trial. Each trial asks for ``{"GPU": n}`` (workers
            must declare ``--resources "GPU=k"``) and runs in a child process that
            sees only its devices in ``CUDA_VISIBLE_DEVICES``, taken from the
            worker's ``HYPERHIVE_DEVICES`` or ``CUDA_VISIBLE_DEVICES``, else ``0..k-1``.
        resources: more Dask resources per trial (e.g. ``{"MEMORY": 8e9}``).
        isolate: run every trial in a killable child process (None: only when
            ``trial_timeout`` is set or GPUs are asked for).
        grace_period: seconds between SIGTERM and SIGKILL when a trial is ended.
        cluster_options: keyword arguments for the ``LocalCluster`` started here.
        prefetch: trials kept queued on the cluster beyond ``workers``, so that a
            worker that finishes starts the next trial at once instead of after a round
            trip through the driver and the scheduler (about 10 ms). None (default):
            one per worker while that round trip is more than 1% of the median trial
            duration (short trials), none otherwise (a queued trial is proposed before
            the results of the trials ahead of it are known). 0 turns it off.

    Changing ``allowed_failures`` applies to the whole scheduler, also for other
    clients of a shared cluster.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: Any = None,
        client: Any = None,
        gpus_per_trial: int = 0,
        resources: dict[str, float] | None = None,
        isolate: bool | None = None,
        grace_period: float = 2.0,
        cluster_options: dict[str, Any] | None = None,
        prefetch: int | None = None,
    ) -> None:
        super().__init__(workers, isolate, grace_period)
        self.prefetch = check_prefetch(prefetch)
        if isinstance(gpus_per_trial, bool) or not isinstance(gpus_per_trial, int):
            raise ValueError(f"gpus_per_trial must be an integer, got {gpus_per_trial!r}")
        if gpus_per_trial < 0:
            raise ValueError(f"gpus_per_trial must be >= 0, got {gpus_per_trial}")
        if address is not None and client is not None:
            raise ValueError("give address or client, not both")
        self.address = address
        self.gpus_per_trial = gpus_per_trial
        self.resources = dict(resources or {})
        if gpus_per_trial:
            self.resources["GPU"] = gpus_per_trial
        self.cluster_options = dict(cluster_options or {})
        self.client: Any = client
        self._own_client = client is None
        self._cluster: Any = None
        self._variable: Any = None
        self._topic = f"hyperhive-{self.run_id}"
        self._signals: ThreadPoolExecutor | None = None

    def needs_isolation(self, task: TrialTask) -> bool:
        return task.timeout is not None or self.gpus_per_trial > 0

    def connect(self) -> None:
        import dask
        from distributed import Client, LocalCluster, Variable

        if self.client is None:
            if self.address is None:
                options = {
                    "n_workers": self.requested_workers,
                    "threads_per_worker": 1,
                    "processes": True,
                    "dashboard_address": None,
                    **self.cluster_options,
                }
                with dask.config.set(_LOCAL_CONFIG):
                    self._cluster = LocalCluster(**options)
                self.client = Client(self._cluster, set_as_default=False)
            else:
                self.client = Client(self.address, set_as_default=False)
        client = self.client
        client.run_on_scheduler(_no_engine_retries)
        if self.requested_workers is None:
            self.workers = self._slots()
        self._variable = Variable(f"hyperhive-objective-{self.run_id}", client=client)
        self._variable.set(self.payload)
        # the workers there now get the objective at once; later ones fetch the Variable
        client.run(_dask_preload, self.key, self.payload, on_error="ignore")
        client.subscribe_topic(self._topic, self._on_event)

    def _slots(self) -> int:
        """Trials the cluster can run at once (waits for a first worker)."""
        self.client.wait_for_workers(1, timeout=300)
        info = self.client.scheduler_info(n_workers=-1)["workers"].values()
        if self.gpus_per_trial:
            n = sum(int(w.get("resources", {}).get("GPU", 0) // self.gpus_per_trial) for w in info)
            if n == 0:
                raise RuntimeError(
                    f"no Dask worker declares enough GPUs for gpus_per_trial="
                    f"{self.gpus_per_trial} (start workers with --resources 'GPU=<n>')"
                )
            return n
        return max(1, sum(int(w.get("nthreads", 1)) for w in info))

    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        fut = self.client.submit(
            _dask_trial,
            self.run_id,
            self.key,
            task_wire,
            isolate,
            self.grace_period,
            self.gpus_per_trial,
            key=f"hyperhive-{self.run_id}-{trial_id}",
            pure=False,
            retries=0,
            resources=self.resources or None,
        )
        fut.add_done_callback(lambda f: self._on_done(trial_id, f))
        return fut

    def _on_done(self, trial_id: int, fut: Any) -> None:
        status = getattr(fut, "status", None)
        if status == "finished":
            if self.entry(trial_id) is None:  # resolved by its "done" event
                return
            try:
                outcome_wire, reports = fut.result()
            except Exception as lost:  # noqa: BLE001 - e.g. the result could not be fetched
                self.trial_failed(trial_id, TrialStatus.LOST, f"the result was lost: {lost!r}")
                return
            self.trial_finished(trial_id, outcome_wire, reports)
            return
        exc: BaseException | None = None
        if status != "cancelled":
            try:
                exc = fut.exception()
            except BaseException as err:  # noqa: BLE001 - cancelled meanwhile
                exc = err
        name = type(exc).__name__ if exc is not None else "CancelledError"
        if name in _LOST:
            reason = f"the Dask worker running the trial died or left ({name}: {exc})"
            self.trial_failed(trial_id, TrialStatus.LOST, reason)
        else:
            self.trial_failed(trial_id, TrialStatus.FAILED, f"the Dask task failed: {exc!r}")

    def _on_event(self, event: Any) -> None:
        msg = event[1]
        kind = msg[0]
        if kind == "report":
            _, tid, seq, step, value, t = msg
            self.trial_report(tid, seq, step, value, t)
        elif kind == "done":
            self.trial_finished(msg[1], msg[2], msg[3])
        elif kind == "start":
            self.trial_started(msg[1], msg[2])

    def abort(self, entry: TrialEntry) -> None:
        if entry.handle is not None:
            entry.handle.cancel()
        if entry.where is not None:
            self.signal(entry, "kill")

    def signal(self, entry: TrialEntry, what: str) -> None:
        # from a thread of its own: this may be called on the client's event loop
        if entry.where is None or self.client is None:
            return
        if self._signals is None:
            self._signals = ThreadPoolExecutor(1, thread_name_prefix="hyperhive-dask")
        self._signals.submit(self._send, entry.where, entry.task.trial_id, what)

    def _send(self, where: str, trial_id: int, what: str) -> None:
        client = self.client
        if client is None:
            return
        try:
            client.run(_dask_control, self.run_id, trial_id, what, workers=[where])
        except Exception:  # noqa: BLE001 - the worker may be gone
            pass

    def disconnect(self) -> None:
        if self._signals is not None:
            self._signals.shutdown(wait=True)
            self._signals = None
        client = self.client
        if client is None:
            return
        for step in (
            lambda: client.unsubscribe_topic(self._topic),
            lambda: self._variable is not None and self._variable.delete(),
            lambda: client.run(_dask_release, self.key, on_error="ignore"),
        ):
            try:
                step()
            except Exception:  # noqa: BLE001 - best effort while closing
                pass
        if self._own_client:
            client.close()
            self.client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


# -- worker side ------------------------------------------------------------------------------

_controls: dict[tuple[str, int], Flags] = {}
_payloads: dict[str, bytes] = {}
_pools: dict[int, DevicePool] = {}
_pools_lock = threading.Lock()


def _no_engine_retries(dask_scheduler: Any = None) -> int:
    """Scheduler side: a task whose worker dies fails at once (hyperhive retries it)."""
    old = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = 0
    return old


def _dask_control(run: str, trial_id: int, what: str) -> bool:
    """Worker side: set the stop or kill flag of a running trial."""
    flags = _controls.get((run, trial_id))
    if flags is None:
        return False
    setattr(flags, what, True)
    return True


def _dask_preload(key: str, payload: bytes) -> None:
    """Worker side: keep the pickled objective (unpickled by the first trial)."""
    _payloads[key] = payload


def _dask_release(key: str) -> int:
    """Worker side: forget the objective and end the idle child processes of this worker."""
    from hyperhive.executors.remote import release_children

    _payloads.pop(key, None)
    return release_children()


def _device_pool(worker: Any, gpus: int) -> DevicePool:
    with _pools_lock:
        pool = _pools.get(gpus)
        if pool is None:
            devices = device_list(None)
            if devices is None:
                total = worker.state.total_resources.get("GPU", 0)
                devices = device_list(int(total))
            pool = _pools[gpus] = DevicePool(devices or [], gpus)
        return pool


def _dask_trial(
    run: str, key: str, task_wire: Any, isolate: bool, grace: float, gpus: int
) -> tuple[Any, Any]:
    """Worker side: run one trial (the task every trial is)."""
    from distributed import Variable, get_client, get_worker

    worker = get_worker()
    addr = worker.address
    trial_id = task_wire[0]
    topic = f"hyperhive-{run}"
    flags = Flags()
    _controls[(run, trial_id)] = flags
    pool = group = None
    try:
        worker.log_event(topic, ("start", trial_id, addr))

        def forward(tid: int, seq: int, step: int | None, value: Any, t: float) -> None:
            worker.log_event(topic, ("report", tid, seq, step, value, t))

        def fetch() -> bytes:
            payload = _payloads.get(key)
            if payload is None:
                variable = Variable(f"hyperhive-objective-{run}", client=get_client())
                payload = _payloads[key] = variable.get(timeout=300)
            return payload

        env = None
        if gpus:
            pool = _device_pool(worker, gpus)
            group = pool.acquire(threading.get_ident())
            if group is None:
                raise RuntimeError(f"no free GPU group on worker {addr}")
            env = visible_env(group)
        result = execute(
            key, fetch, task_wire, control=flags, worker=addr, isolate=isolate, grace=grace,
            forward=forward, env=env,
        )  # fmt: skip
        try:  # the quick way back (no gather); the task's result is the fallback
            worker.log_event(topic, ("done", trial_id, *result))
        except Exception:  # noqa: BLE001 - e.g. metadata that msgpack cannot encode
            pass
        return result
    finally:
        _controls.pop((run, trial_id), None)
        if pool is not None and group is not None:
            pool.release(group)
