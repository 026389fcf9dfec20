"""The Ray executor: each trial is a Ray task.

Install with ``pip install "hyperhive[ray]"``. Nothing here imports Ray until
:meth:`Ray.start`.

How it works:

* The objective is pickled once (cloudpickle) and put in the object store; each
  worker process fetches and unpickles it once.
* Each trial is one task with ``num_cpus=cpus_per_trial``, ``num_gpus=gpus_per_trial``,
  ``max_retries=0`` and ``retry_exceptions=False``: a worker that dies ends the trial as
  ``lost`` and hyperhive re-runs it (``max_retries``). Ray sets
  ``CUDA_VISIBLE_DEVICES`` to the GPUs it gave the task.
* A small async actor (the hub, ``num_cpus=0``) carries the live traffic: workers post
  ``hh.report`` values to it and the driver long-polls it; ``hh.should_stop`` and kill
  requests are a long-poll call that a trial opens on the hub the first time it checks
  (then checked with ``ray.wait(timeout=0)``: no polling RPCs). A trial that neither
  reports nor checks costs the hub nothing.
* Without ``trial_timeout`` a trial runs in the Ray worker process; cancelling it
  ends that worker (``ray.cancel(force=True)``). With a timeout (or ``isolate=True``)
  it runs in a killable child process of the worker, ended with its process group.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from hyperhive.executors.cluster import ClusterExecutor, TrialEntry
from hyperhive.executors.gpu import CUDA_ENV
from hyperhive.executors.remote import execute
from hyperhive.trial import TrialStatus

__all__ = ["Ray"]

NONE, STOP, KILL, DONE = 0, 1, 2, 3
_LEVELS = {"stop": STOP, "kill": KILL}
#: Ray errors (by class name) that mean the trial's worker or node went away.
_LOST = {
    "WorkerCrashedError",
    "NodeDiedError",
    "OutOfMemoryError",
    "ObjectLostError",
    "OwnerDiedError",
    "ActorDiedError",
    "RaySystemError",
    "LocalRayletDiedError",
    "TaskUnschedulableError",
}


class Ray(ClusterExecutor):
    """Runs trials as Ray tasks.

    Args:
        workers: trials in flight; None: as many as the cluster's CPUs (and GPUs)
            allow with the per-trial resources. When this executor starts Ray
            locally, it declares ``workers * cpus_per_trial`` CPUs.
        address: passed to ``ray.init`` (``"auto"``, ``"ray://host:10001"``); None
            starts Ray locally. An already initialized Ray is used as it is.
        cpus_per_trial: CPUs each trial reserves (may be fractional).
        gpus_per_trial: GPUs each trial reserves (may be fractional).
        resources: more custom resources per trial.
        isolate: run every trial in a killable child process (None: only with
            ``trial_timeout``).
        grace_period: seconds between SIGTERM and SIGKILL when a trial is ended.
        init_options: more keyword arguments for ``ray.init``.
        task_options: more options for each trial's task (``ray.remote``), e.g.
            ``{"max_calls": 0}`` to reuse worker processes for GPU trials (Ray starts a
            new worker process for each GPU task by default).
    """

    name = "ray"
    signal_anywhere = True

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        cpus_per_trial: float = 1,
        gpus_per_trial: float = 0,
        resources: dict[str, float] | None = None,
        isolate: bool | None = None,
        grace_period: float = 2.0,
        init_options: dict[str, Any] | None = None,
        task_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(workers, isolate, grace_period)
        per_trial = {"cpus_per_trial": cpus_per_trial, "gpus_per_trial": gpus_per_trial}
        for label, value in per_trial.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{label} must be a number >= 0, got {value!r}")
        self.address = address
        self.cpus_per_trial = cpus_per_trial
        self.gpus_per_trial = gpus_per_trial
        self.resources = dict(resources or {})
        self.init_options = dict(init_options or {})
        self.task_options = dict(task_options or {})
        self._own_ray = False
        self._hub: Any = None
        self._box: list[Any] = []
        self._fn: Any = None
        self._isolated: set[int] = set()
        self._pump: threading.Thread | None = None
        self._closing = threading.Event()

    def connect(self) -> None:
        import ray

        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False}
            if self.address is None and self.requested_workers is not None:
                options["num_cpus"] = max(1, int(self.requested_workers * self.cpus_per_trial))
            options.update(self.init_options)
            ray.init(address=self.address, **options)
            self._own_ray = True
        self._hub = ray.remote(_Hub).options(num_cpus=0, max_concurrency=100_000).remote()
        self._box = [ray.put(self.payload)]
        task_options: dict[str, Any] = {
            "num_cpus": self.cpus_per_trial,
            "num_gpus": self.gpus_per_trial,
            "max_retries": 0,
            "retry_exceptions": False,
        }
        if self.resources:
            task_options["resources"] = self.resources
        task_options.update(self.task_options)
        self._fn = ray.remote(**task_options)(_ray_trial)
        if self.requested_workers is None:
            self.workers = self._slots(ray.cluster_resources())
        self._pump = threading.Thread(target=self._pump_events, name="hyperhive-ray", daemon=True)
        self._pump.start()

    def _slots(self, total: dict[str, float]) -> int:
        fits = []
        for res, need in (
            ("CPU", self.cpus_per_trial),
            ("GPU", self.gpus_per_trial),
            *self.resources.items(),
        ):
            if need:
                fits.append(int(total.get(res, 0) // need))
        n = min(fits) if fits else int(total.get("CPU", 1))
        if n < 1:
            raise RuntimeError(
                f"the Ray cluster ({total}) cannot run one trial with cpus_per_trial="
                f"{self.cpus_per_trial}, gpus_per_trial={self.gpus_per_trial}, "
                f"resources={self.resources}"
            )
        return n

    def launch(self, trial_id: int, task_wire: tuple[Any, ...], isolate: bool) -> Any:
        ref = self._fn.options(name=f"hyperhive-trial-{trial_id}").remote(
            self._hub, self._box, self.key, task_wire, isolate, self.grace_period
        )
        if isolate:
            self._isolated.add(trial_id)
        ref.future().add_done_callback(lambda f: self._on_done(trial_id, f))
        return ref

    def _on_done(self, trial_id: int, fut: Any) -> None:
        self._isolated.discard(trial_id)
        try:
            outcome_wire, reports = fut.result()
        except BaseException as exc:  # noqa: BLE001 - classified below
            name = type(exc).__name__
            cause = getattr(exc, "cause", None)
            if name == "TaskCancelledError":
                self.trial_failed(trial_id, TrialStatus.CANCELLED, "cancelled by Ray")
            elif name in _LOST or type(cause).__name__ in _LOST:
                reason = f"the Ray worker running the trial died ({name}: {exc})"
                self.trial_failed(trial_id, TrialStatus.LOST, reason)
            else:
                self.trial_failed(trial_id, TrialStatus.FAILED, f"the Ray task failed: {exc!r}")
            return
        self.trial_finished(trial_id, outcome_wire, reports)

    def _pump_events(self) -> None:
        import ray

        while not self._closing.is_set():
            try:
                events = ray.get(self._hub.take.remote(0.5))
            except Exception:  # noqa: BLE001 - Ray is shutting down
                if self._closing.wait(0.5):
                    return
                continue
            for event in events:
                if event[0] == "report":
                    self.trial_report(*event[1:])

    def abort(self, entry: TrialEntry) -> None:
        import ray

        tid = entry.task.trial_id
        if tid in self._isolated:  # the worker kills the child; the Ray worker stays
            self.signal(entry, "kill")
        elif entry.handle is not None:
            ray.cancel(entry.handle, force=True)

    def signal(self, entry: TrialEntry, what: str) -> None:
        if self._hub is not None:
            self._hub.signal.remote(entry.task.trial_id, _LEVELS[what])

    def disconnect(self) -> None:
        import ray

        self._closing.set()
        if self._pump is not None:
            self._pump.join(timeout=5)
        if self._hub is not None:
            try:
                ray.kill(self._hub)
            except Exception:  # noqa: BLE001 - Ray may be down already
                pass
            self._hub = None
        self._box = []
        if self._own_ray:
            ray.shutdown()
            self._own_ray = False


class _Hub:
    """Async actor: live traffic between the trials and the driver."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.wake = asyncio.Event()
        self.levels: dict[int, int] = {}
        self.changed: dict[int, asyncio.Event] = {}

    async def post(self, events: list[tuple[Any, ...]]) -> None:
        self.events.extend(events)
        self.wake.set()

    async def take(self, timeout: float) -> list[tuple[Any, ...]]:
        if not self.events:
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        self.wake.clear()
        out, self.events = self.events, []
        return out

    async def signal(self, trial_id: int, level: int) -> None:
        if level > self.levels.get(trial_id, NONE):
            self.levels[trial_id] = level
            event = self.changed.pop(trial_id, None)
            if event is not None:
                event.set()

    async def wait(self, trial_id: int, level: int) -> int:
        """Returns once the trial's level is above ``level``."""
        while self.levels.get(trial_id, NONE) <= level:
            event = self.changed.setdefault(trial_id, asyncio.Event())
            await event.wait()
        return self.levels[trial_id]

    async def release(self, trial_id: int) -> None:
        await self.signal(trial_id, DONE)
        self.levels.pop(trial_id, None)


class _HubControl:
    """Worker side: the trial's stop/kill level, from a long-poll call kept on the hub."""

    def __init__(self, hub: Any, trial_id: int) -> None:
        self.hub, self.trial_id = hub, trial_id
        self.level = NONE
        self.ref: Any = None  # the pending call, made on the first check
        self.checked = 0.0

    def _check(self) -> int:
        import ray

        if self.ref is None:
            self.ref = self.hub.wait.remote(self.trial_id, NONE)
        now = time.monotonic()
        if self.level < KILL and now - self.checked > 0.01:
            self.checked = now
            ready, _ = ray.wait([self.ref], timeout=0)
            if ready:
                self.level = ray.get(ready[0])
                if self.level < KILL:
                    self.ref = self.hub.wait.remote(self.trial_id, self.level)
        return self.level

    def stop_requested(self) -> bool:
        return self._check() >= STOP

    def kill_requested(self) -> bool:
        return self._check() >= KILL


def _ray_trial(
    hub: Any, box: list[Any], key: str, task_wire: Any, isolate: bool, grace: float
) -> tuple[Any, Any]:
    """Worker side: run one trial (the task every trial is)."""
    import ray

    trial_id = task_wire[0]
    node = ray.get_runtime_context().get_node_id()[:8]
    worker = f"ray-{node}-{os.getpid()}"
    control = _HubControl(hub, trial_id)

    def forward(tid: int, seq: int, step: int | None, value: Any, t: float) -> None:
        hub.post.remote([("report", tid, seq, step, value, t)])

    env = None
    if isolate and os.environ.get(CUDA_ENV) is not None:
        env = {CUDA_ENV: os.environ[CUDA_ENV]}
    try:
        return execute(
            key, lambda: ray.get(box[0]), task_wire, control=control, worker=worker,
            isolate=isolate, grace=grace, forward=forward, env=env,
        )  # fmt: skip
    finally:
        if control.ref is not None:  # wake the pending call
            hub.release.remote(trial_id)
