"""Central search: ``hh.search``, one driver running the one loop with a central commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from hyperhive.executors import Executor, get_executor
from hyperhive.optimizers import Optimizer, get_optimizer
from hyperhive.search.callbacks import CallbackLike
from hyperhive.search.core import Loop
from hyperhive.search.options import (
    LoopOptions,
    check_initial_points,
    check_objective,
    close_progress,
    normalize_directions,
    progress_hook,
)
from hyperhive.search.policy import CentralCommit
from hyperhive.search.result import Result
from hyperhive.search.state import RunState
from hyperhive.search.warm import warm_trials
from hyperhive.space import as_space
from hyperhive.stoppers import Stopper
from hyperhive.storage import RunDir, Store

__all__ = ["search"]

logger = logging.getLogger("hyperhive")


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
    stopper: str | Stopper | None = None,
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
        max_retries: how often a trial whose worker died is re-run; the next death
            ends it ``failed`` (counted, and told to the optimizer).
        workers: trials in flight at once.
        executor: ``"auto"`` (serial for 1 worker, processes otherwise), ``"serial"``,
            ``"thread"``, ``"process"``, or an :class:`hyperhive.executors.Executor`.
        run_dir: a folder for a durable, resumable run; None keeps everything in memory.
            One driver at a time: while this search runs, another ``hh.search`` (or
            ``hyperhive run``) on the same folder is refused.
        store: where the journal lives instead of ``run_dir``'s SQLite file: a URL
            (``"redis://:password@host:6379/0"``, ``rediss://`` for TLS, ``sqlite:///``)
            or a :class:`hyperhive.storage.Store`; a Redis run is named after
            ``run_dir`` unless the URL has ``?run=NAME``.
        seed: makes the search reproducible; None draws one (recorded in the run dir).
        callbacks: functions ``cb(trial, state)`` called as each trial ends; they may
            call ``state.stop(reason)``. See :class:`hyperhive.EarlyStopping`. On
            resume they are not called for the trials that ended before (those are
            only counted in ``state``); nor for trials the search itself cancels as it ends.
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
        stopper: stops hopeless trials early from what they report per step
            (``hh.report(value, step=...)``): None, a name (``"asha"``,
            ``"hyperband"``, ``"median"``, ``"lce"``, ``"constant"``) or a
            :class:`hyperhive.stoppers.Stopper`. A stopped trial ends ``stopped`` with
            what its objective returns. With a ``run_dir`` (or ``store``) its rungs
            are kept in the run, so a resumed search keeps them. See ``docs/stoppers.md``.

    Returns:
        A :class:`hyperhive.Result`.

    Raises:
        hyperhive.storage.RunLockedError: another driver runs a search on ``run_dir``
            (a ``RuntimeError``; the message names its host and pid).
    """
    began = time.monotonic()  # the timeout counts from here, start-up of workers included
    check_objective(objective)
    directions = normalize_directions(direction)
    options = LoopOptions(
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        max_failures=max_failures,
        max_retries=max_retries,
        callbacks=list(callbacks),
        slots_per_trial=slots_per_trial,
        stopper=stopper,
    ).check()
    opt = get_optimizer(optimizer)
    space = as_space(space)
    initial = check_initial_points(initial_points, space)
    warm = warm_trials(warm_start, space, directions) if warm_start is not None else []
    exe = get_executor(executor, workers)
    on_progress = progress_hook(progress)
    # one driver per run: the lock is taken before anything in the run directory is
    # written, so a refused second driver changes nothing
    folder = RunDir(run_dir) if run_dir is not None else None
    lock = folder.driver_lock() if folder is not None else None
    if lock is not None:
        lock.acquire()
    handler = None
    try:
        state = RunState(
            space, directions, folder, seed, optimizer_settings=opt.settings(), store=store
        )
        handler = state.run_dir.attach_log(logger) if state.run_dir is not None else None
        state.load()
        opt.setup(state.space, state.directions, seed=state.seed)
        policy = CentralCommit(state, lock=lock)
        loop = Loop(state, opt, exe, policy, options, on_progress, start=began)
        loop.begin(initial, warm)
        if loop.told:
            logger.info(
                "resuming %s: %d finished trials",
                state.run_dir and state.run_dir.path,
                len(loop.told),
            )
        reason = loop.drive(objective)
        logger.info("search ended: %s (%d counted trials)", reason, loop.view.counted)
    finally:
        if lock is not None:
            lock.release()  # Loop.drive released it already, unless it raised earlier
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()
        close_progress(on_progress)
    return state.result(reason, opt)
