"""The asynchronous search loop: ``hh.search``."""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperhive.executors import Executor, TrialOutcome, TrialTask, get_executor
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.callbacks import CallbackLike, SearchState
from hyperhive.search.result import Result
from hyperhive.search.signals import StopFlag, stop_on_signals
from hyperhive.search.state import RunState, normalize_directions
from hyperhive.space import as_space
from hyperhive.storage import Store
from hyperhive.trial import Trial, TrialStatus, end_event, report_event, submit_event

logger = logging.getLogger("hyperhive")

IN_DRIVER = ("serial", "thread")


def _check_positive(name: str, value: Any, *, integer: bool, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and (
        isinstance(value, int) if integer else isinstance(value, int | float)
    )
    if not ok or value <= 0 or (not integer and not math.isfinite(value)):
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind} or None, got {name}={value!r}")


@dataclass
class _Retry:
    config: dict[str, Any]
    attempt: int
    retry_of: int


@dataclass
class _Loop:
    """Mutable state of one search call."""

    state: RunState
    optimizer: Optimizer
    executor: Executor
    max_evals: int | None
    timeout: float | None
    trial_timeout: float | None
    max_failures: int | None
    max_retries: int
    callbacks: list[CallbackLike]
    on_progress: Callable[[dict[str, Any]], None] | None
    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    in_flight: dict[int, Trial] = field(default_factory=dict)
    retries: deque[_Retry] = field(default_factory=deque)
    initial: deque[dict[str, Any]] = field(default_factory=deque)
    pending_events: list[dict[str, Any]] = field(default_factory=list)
    view: SearchState | None = None
    start: float = 0.0
    busy: float = 0.0
    stop_reason: str | None = None
    cancel_reason: str | None = None

    # -- bookkeeping -------------------------------------------------------------
    def sink(self, trial_id: int, step: int | None, value: Any, t: float) -> None:
        self.inbox.put(("report", trial_id, step, value, t))

    def _on_done(self, trial_id: int, fut: Future) -> None:
        self.inbox.put(("done", trial_id, fut))

    def counted(self) -> int:
        return self.view.counted if self.view else 0

    def remaining(self) -> int | None:
        if self.max_evals is None:
            return None
        return self.max_evals - self.counted() - len(self.in_flight)

    # -- submitting ----------------------------------------------------------------
    def fill(self) -> None:
        free = self.executor.workers - len(self.in_flight)
        rem = self.remaining()
        n = free if rem is None else min(free, rem)
        events = self.pending_events
        self.pending_events = []
        retries: list[_Retry] = []
        while n > 0 and self.retries:
            retries.append(self.retries.popleft())
            n -= 1
        for r in retries:
            events.append(submit_event(None, r.config, attempt=r.attempt, retry_of=r.retry_of))
        while n > 0 and self.initial:
            events.append(submit_event(None, self.initial.popleft()))
            n -= 1
        if n > 0:
            pending = list(self.in_flight.values())
            for cfg in self.optimizer.ask(n, pending=pending):
                events.append(submit_event(None, cfg))
        created = self.state.commit(events)
        for t in created:
            self.in_flight[t.id] = t
            task = TrialTask(
                trial_id=t.id,
                config=dict(t.config),
                seed=t.seed,
                artifact_dir=self.state.artifact_dir(t.id),
                timeout=self.trial_timeout,
            )
            fut = self.executor.submit(task)
            fut.add_done_callback(lambda f, tid=t.id: self._on_done(tid, f))

    # -- receiving -----------------------------------------------------------------
    def drain(self, wait: float) -> list[Trial]:
        """Collect reports and finished trials; block up to ``wait`` seconds for the first."""
        finished: list[Trial] = []
        try:
            item = self.inbox.get(timeout=max(wait, 0.0)) if wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return finished
        while True:
            if item[0] == "report":
                _, tid, step, value, t = item
                if tid in self.state.trials:
                    self.pending_events.append(report_event(tid, step, value, t))
            else:
                _, tid, fut = item
                trial = self._finish(tid, fut)
                if trial is not None:
                    finished.append(trial)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return finished

    def _finish(self, tid: int, fut: Future) -> Trial | None:
        trial = self.in_flight.pop(tid, None)
        if trial is None:
            return None
        try:
            out: TrialOutcome = fut.result()
        except BaseException as exc:  # noqa: BLE001 - an executor error loses the trial
            out = TrialOutcome(tid, TrialStatus.LOST, reason=f"executor error: {exc!r}")
        k = len(self.state.directions)
        vals = out.objective
        n_vals = 0 if vals is None else (len(vals) if isinstance(vals, tuple) else 1)
        if out.status == TrialStatus.DONE and n_vals != k:
            out.status = TrialStatus.FAILED
            out.reason = f"objective returned {n_vals} value(s) but the search has {k} direction(s)"
            out.objective = None
        trial.status = out.status
        trial.objective = out.objective
        trial.constraints = out.constraints
        trial.metadata = out.metadata
        trial.reason = out.reason
        if out.status == TrialStatus.CANCELLED and self.cancel_reason:
            trial.reason = self.cancel_reason
        trial.traceback = out.traceback
        trial.started = out.started
        trial.finished = out.finished if out.finished is not None else time.time()
        trial.worker = out.worker
        trial.host = out.host
        if trial.started is not None:
            self.busy += max(0.0, trial.finished - trial.started)
        self.pending_events.append(end_event(trial))
        if trial.status == TrialStatus.LOST and trial.attempt < self.max_retries:
            self.retries.append(_Retry(dict(trial.config), trial.attempt + 1, trial.id))
        return trial

    def account(self, finished: list[Trial]) -> None:
        """Commit, tell the optimizer, update the view, run callbacks."""
        view = self.view
        if view is None:  # pragma: no cover - set in run()
            return
        for t in finished:
            if t.counted:
                view.counted += 1
            if t.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT):
                view.failures += 1
            if len(view.directions) == 1 and t.status == TrialStatus.DONE and t.feasible:
                sign = 1.0 if view.directions[0] == "minimize" else -1.0
                if view.best is None or sign * t.values[0] < sign * view.best.values[0]:  # type: ignore[index]
                    view.best = t
        self.optimizer.tell(finished)
        view.elapsed = time.monotonic() - self.start
        for t in finished:
            for cb in self.callbacks:
                cb(t, view)

    # -- the loop ----------------------------------------------------------------------
    def done_reason(self, flag: StopFlag) -> str | None:
        view = self.view
        if view is None:  # pragma: no cover
            return None
        if flag:
            return f"interrupted ({flag.signal})"
        if view.stop_reason:
            return view.stop_reason
        if self.max_failures is not None and view.failures >= self.max_failures:
            return f"max_failures={self.max_failures} reached"
        if self.timeout is not None and time.monotonic() - self.start >= self.timeout:
            return f"timeout={self.timeout} s reached"
        if self.max_evals is not None and view.counted >= self.max_evals and not self.in_flight:
            return "max_evals reached"
        return None

    def progress(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.time()
        elapsed = time.monotonic() - self.start
        running_busy = sum(now - (t.submitted or now) for t in self.in_flight.values())
        denom = self.executor.workers * elapsed
        view = self.view
        self.on_progress(
            {
                "counted": view.counted if view else 0,
                "failures": view.failures if view else 0,
                "running": len(self.in_flight),
                "max_evals": self.max_evals,
                "best": None if view is None or view.best is None else view.best.objective,
                "elapsed": elapsed,
                "utilization": (self.busy + running_busy) / denom if denom > 0 else 0.0,
                "final": force,
            }
        )

    def cancel_all(self, reason: str) -> list[Trial]:
        """End every trial in flight as cancelled (waiting briefly for executors to confirm)."""
        self.cancel_reason = reason
        for tid in list(self.in_flight):
            with contextlib.suppress(Exception):
                self.executor.cancel(tid)
        deadline = time.monotonic() + 5.0
        finished: list[Trial] = []
        while self.in_flight and time.monotonic() < deadline:
            finished.extend(self.drain(0.2))
        now = time.time()
        for tid, t in list(self.in_flight.items()):
            t.status = TrialStatus.CANCELLED
            t.reason = reason
            t.finished = now
            self.pending_events.append(end_event(t))
            finished.append(t)
            del self.in_flight[tid]
        return finished

    def run(self) -> str:
        self.start = time.monotonic()
        flag = StopFlag()
        last_progress = 0.0
        with stop_on_signals(flag):
            reason = self.done_reason(flag)
            while reason is None:
                if not flag and self.view and not self.view.stop_reason:
                    self.fill()
                if not self.in_flight:
                    reason = self.done_reason(flag) or "the optimizer proposed no more trials"
                    break
                wait = 0.5
                if self.timeout is not None:
                    wait = min(wait, max(0.0, self.timeout - (time.monotonic() - self.start)))
                finished = self.drain(wait)
                if finished:
                    self.state.commit(self.pending_events)
                    self.pending_events = []
                    self.account(finished)
                if time.monotonic() - last_progress > 0.25:
                    self.progress()
                    last_progress = time.monotonic()
                reason = self.done_reason(flag)
                if reason is None and self.max_evals is not None and self.remaining() == 0:
                    continue
            if self.in_flight:
                cancelled = self.cancel_all(f"search ended: {reason}")
                self.state.commit(self.pending_events)
                self.pending_events = []
                self.account([t for t in cancelled if t.status != TrialStatus.CANCELLED])
            elif self.pending_events:
                self.state.commit(self.pending_events)
                self.pending_events = []
        self.progress(force=True)
        return reason


def search(
    objective: Callable[[dict[str, Any]], Any],
    space: Any,
    *,
    direction: str | Sequence[str] = "minimize",
    optimizer: str | Optimizer = "auto",
    max_evals: int | None = 100,
    timeout: float | None = None,
    trial_timeout: float | None = None,
    max_failures: int | None = None,
    max_retries: int = 1,
    workers: int = 1,
    executor: str | Executor = "auto",
    run_dir: str | Path | None = None,
    store: str | Store | None = None,
    seed: int | None = None,
    callbacks: Sequence[CallbackLike] = (),
    progress: bool | Callable[[Mapping[str, Any]], None] = False,
    initial_points: Sequence[Mapping[str, Any]] | None = None,
    warm_start: str | Path | Result | None = None,
) -> Result:
    """Search ``space`` for the configuration that optimizes ``objective``.

    Keeps ``workers`` trials in flight and asks the optimizer for a new one the moment
    any finishes. With a ``run_dir`` everything is journaled there and calling again
    with the same ``run_dir`` resumes: finished trials are kept, trials that were running
    are re-run, and the budget counts what is already done.

    Args:
        objective: a function of one mapping returning a float, a sequence of floats
            (several objectives) or a mapping with ``"objective"`` (and optional
            ``"constraints"`` and metadata).
        space: a :class:`hyperhive.Space`, a dict (long or short form) or a
            ``ConfigSpace.ConfigurationSpace``.
        direction: ``"minimize"`` or ``"maximize"``, or a list, one per objective.
        optimizer: a name (``"auto"``, ``"random"``, ``"qmc"``, ...) or an instance.
        max_evals: counted trials (done, failed, timeout, stopped) to run; exact.
        timeout: wall-time limit in seconds; running trials are then cancelled.
        trial_timeout: per-trial limit in seconds (killed where the executor can).
        max_failures: stop once this many trials failed or timed out.
        max_retries: how often a lost trial (its worker died) is re-run.
        workers: trials in flight at once.
        executor: ``"auto"`` (serial for 1 worker, processes otherwise), ``"serial"``,
            ``"thread"``, ``"process"``, or an :class:`hyperhive.executors.Executor`.
        run_dir: a folder for a durable, resumable run; None keeps everything in memory.
        store: where the journal lives instead of ``run_dir``'s SQLite file: a URL
            (``"redis://:password@host:6379/0"``, ``rediss://`` for TLS, ``sqlite:///``)
            or a :class:`hyperhive.storage.Store`; a Redis run is named after
            ``run_dir`` unless the URL has ``?run=NAME``.
        seed: makes the search reproducible; None draws one (recorded in the run dir).
        callbacks: functions ``cb(trial, state)`` called as each trial ends; they may
            call ``state.stop(reason)``. See :class:`hyperhive.EarlyStopping`.
        progress: True for a live progress display, or a function of a progress dict.
        initial_points: configurations evaluated first (e.g. a known good one), in
            order; validated against the space, they count toward ``max_evals``.
            On resume, those already in the run are not repeated.
        warm_start: an earlier run (its directory, or a :class:`Result`) whose
            finished trials the optimizer learns from before the first ask
            (``Optimizer.warm_start``); their configurations are adapted to the
            space (missing parameters take their default, others dropped; the
            trials that still do not fit are left out). They are not stored in
            this run and do not count toward ``max_evals``.

    Returns:
        A :class:`hyperhive.Result`.
    """
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    directions = normalize_directions(direction)
    _check_positive("max_evals", max_evals, integer=True)
    _check_positive("timeout", timeout, integer=False)
    _check_positive("trial_timeout", trial_timeout, integer=False)
    _check_positive("max_failures", max_failures, integer=True)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(
            f"max_retries must be a non-negative integer, got max_retries={max_retries!r}"
        )
    if max_evals is None and timeout is None and not callbacks:
        raise ValueError("give max_evals or timeout (or a stopping callback); both are None")
    opt = get_optimizer(optimizer)
    from hyperhive.search.warm import check_initial_points, warm_trials

    space = as_space(space)
    initial = check_initial_points(initial_points, space)
    warm = warm_trials(warm_start, space, directions) if warm_start is not None else []
    exe = get_executor(executor, workers)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables cb(trial, state), got {cb!r}")
    state = RunState(
        space, directions, run_dir, seed, optimizer_settings=opt.settings(), store=store
    )
    handler = None
    if state.run_dir is not None:
        handler = state.run_dir.attach_log(logger)
    on_progress = _progress_hook(progress)
    try:
        return _run(
            objective,
            state,
            opt,
            exe,
            max_evals,
            timeout,
            trial_timeout,
            max_failures,
            max_retries,
            list(callbacks),
            on_progress,
            initial,
            warm,
        )
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()
        if on_progress is not None and hasattr(on_progress, "close"):
            on_progress.close()


def _progress_hook(progress: Any) -> Any:
    if progress is True:
        from hyperhive.search.progress import ProgressDisplay

        return ProgressDisplay()
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    raise TypeError(f"progress must be a bool or a callable, got {progress!r}")


def _run(
    objective: Callable[[dict[str, Any]], Any],
    state: RunState,
    opt: Optimizer,
    exe: Executor,
    max_evals: int | None,
    timeout: float | None,
    trial_timeout: float | None,
    max_failures: int | None,
    max_retries: int,
    callbacks: list[CallbackLike],
    on_progress: Any,
    initial: Sequence[dict[str, Any]] = (),
    warm: Sequence[Trial] = (),
) -> Result:
    state.load()
    opt.setup(state.space, state.directions, seed=state.seed)
    if warm:
        opt.warm_start(list(warm))
    loop = _Loop(
        state=state,
        optimizer=opt,
        executor=exe,
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        max_failures=max_failures,
        max_retries=max_retries,
        callbacks=callbacks,
        on_progress=on_progress,
    )
    view = SearchState(directions=list(state.directions))
    loop.view = view
    done_configs = [t.config for t in state.trials.values()]
    loop.initial.extend(c for c in initial if c not in done_configs)
    # Resume: trials left running by a driver that died are ended as lost and re-run.
    orphans = [t for t in state.trials.values() if not t.status.finished]
    now = time.time()
    events = []
    for t in orphans:
        t.status = TrialStatus.LOST
        t.reason = "the driver stopped before the trial finished; re-run on resume"
        t.finished = now
        events.append(end_event(t))
        loop.retries.append(_Retry(dict(t.config), t.attempt + 1, t.id))
    state.commit(events)
    history = state.finished_in_order()
    if history:
        logger.info(
            "resuming %s: %d finished trials", state.run_dir and state.run_dir.path, len(history)
        )
        loop.account(history)
        view.stop_reason = None
    threads_ctx: Any = contextlib.nullcontext()
    if exe.name not in IN_DRIVER:
        from threadpoolctl import threadpool_limits

        threads_ctx = threadpool_limits(limits=1)
    exe.start(objective, loop.sink)
    try:
        with threads_ctx:
            reason = loop.run()
    finally:
        exe.shutdown(wait=False)
    logger.info("search ended: %s (%d counted trials)", reason, view.counted)
    result = Result(
        state.trials.values(),
        state.space,
        state.directions,
        run_dir=state.run_dir.path if state.run_dir else None,
        stop_reason=reason,
        seed=state.seed,
    )
    if state.run_dir is not None:
        state.run_dir.write_results(result.trials)
    return result
