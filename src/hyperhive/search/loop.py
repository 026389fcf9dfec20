"""The asynchronous search loop: ``hh.search``."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hyperhive.executors import Executor, get_executor
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.callbacks import CallbackLike, SearchState
from hyperhive.search.engine import Engine, Retry
from hyperhive.search.result import Result
from hyperhive.search.state import RunState, normalize_directions
from hyperhive.space import as_space
from hyperhive.storage import Store
from hyperhive.trial import Trial, TrialStatus, end_event

logger = logging.getLogger("hyperhive")

IN_DRIVER = ("serial", "thread")
DRIVER_STOPPED = "the driver stopped before the trial finished; re-run on resume"


def _check_positive(name: str, value: Any, *, integer: bool, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and (
        isinstance(value, int) if integer else isinstance(value, int | float)
    )
    if not ok or value <= 0 or (not integer and not math.isfinite(value)):
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind} or None, got {name}={value!r}")


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
    slots_per_trial: Callable[[dict[str, Any]], int] | None = None,
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
        slots_per_trial: a function of a configuration giving how many of the
            ``workers`` slots its trial occupies (e.g. ``hyperhive.nas.slots_per_trial``
            for data-parallel training on N processes); None: one slot per trial.

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
    if slots_per_trial is not None and not callable(slots_per_trial):
        raise TypeError(
            f"slots_per_trial must be a function of a configuration, got {slots_per_trial!r}"
        )
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
            slots_per_trial,
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
    slots_per_trial: Callable[[dict[str, Any]], int] | None = None,
) -> Result:
    began = time.monotonic()  # the timeout counts from here, start-up of workers included
    state.load()
    opt.setup(state.space, state.directions, seed=state.seed)
    if warm:
        opt.warm_start(list(warm))
    loop = Engine(
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
        slots_per_trial=slots_per_trial,
        start=began,
    )
    view = SearchState(directions=list(state.directions))
    loop.view = view
    done_configs = [t.config for t in state.trials.values()]
    loop.initial.extend(c for c in initial if c not in done_configs)
    # Resume: trials left running by a driver that died are ended as lost and re-run.
    # A lost trial whose re-run was never submitted (the driver died in between) is
    # re-run too.
    orphans = [t for t in state.trials.values() if not t.status.finished]
    now = time.time()
    events = []
    for t in orphans:
        t.status = TrialStatus.LOST
        t.reason = DRIVER_STOPPED
        t.finished = now
        events.append(end_event(t))
    state.commit(events)
    retried = {t.retry_of for t in state.trials.values() if t.retry_of is not None}
    for t in sorted(state.trials.values(), key=lambda t: t.id):
        if t.status != TrialStatus.LOST or t.id in retried:
            continue
        if t.reason == DRIVER_STOPPED or t.attempt < max_retries:
            loop.retries.append(Retry(dict(t.config), t.attempt + 1, t.id))
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
    # The optimizer's imports run beside the start-up of the workers, and are done
    # before the first ask that needs them (two threads importing the same modules
    # at once can see them half initialized). Not when workers are forked from this
    # process: a fork in the middle of an import can deadlock.
    if getattr(exe, "start_method", None) != "fork":
        opt.prepare_in_background()
    try:
        exe.start(objective, loop.sink)
    finally:
        if not opt.prepares_lazily:
            opt.wait_prepared()
    opt.set_concurrency(exe.workers)
    try:
        with threads_ctx:
            reason = loop.run()
    finally:
        exe.shutdown(wait=False)
    logger.info("search ended: %s (%d counted trials)", reason, view.counted)
    return state.result(reason, opt)
