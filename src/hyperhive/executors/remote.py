"""Worker side of a cluster executor: run one trial where the engine put it.

:func:`execute` runs one trial either in the worker's own process (no extra process,
no per-trial spawn; it cannot be interrupted) or, when the trial has a
``trial_timeout`` or isolation was asked for, in the killable child host of the
worker (:mod:`hyperhive.executors._isolated`). It returns the outcome and every
report as plain tuples, which the engine carries back to
:meth:`~hyperhive.executors.ClusterExecutor.trial_finished`.
"""

from __future__ import annotations

import collections
import pickle
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from hyperhive.executors._protocol import (
    failed_outcome,
    outcome_to_wire,
    task_from_wire,
)
from hyperhive.executors.base import TrialOutcome
from hyperhive.executors.channel import Control, Forward, WorkerChannel
from hyperhive.executors.runner import HOST, run_trial
from hyperhive.trial import TrialStatus

__all__ = ["execute", "load_objective", "release_children"]

_objectives: collections.OrderedDict[str, Any] = collections.OrderedDict()
_objectives_lock = threading.Lock()


def load_objective(key: str, fetch: Callable[[], bytes]) -> Any:
    """The objective pickled under ``key``, unpickled once per process (the last 4 kept).

    Args:
        key: a digest of the pickled objective.
        fetch: returns the pickled bytes (called only when ``key`` is not cached).
    """
    with _objectives_lock:
        if key in _objectives:
            _objectives.move_to_end(key)
            return _objectives[key]
    objective = pickle.loads(fetch())
    with _objectives_lock:
        _objectives[key] = objective
        while len(_objectives) > 4:
            _objectives.popitem(last=False)
    return objective


def execute(
    key: str,
    fetch: Callable[[], bytes],
    task_wire: tuple[Any, ...] | list[Any],
    *,
    control: Control,
    worker: str,
    isolate: bool,
    grace: float = 2.0,
    forward: Forward | None = None,
    env: dict[str, str] | None = None,
) -> tuple[tuple[Any, ...], list[tuple[int | None, Any, float]]]:
    """Run one trial on this worker; returns ``(outcome_wire, reports)``.

    Args:
        key: the objective's cache key; ``fetch`` returns its pickled bytes.
        task_wire: the task as the executor encoded it (the ``task_wire`` of
            :meth:`~hyperhive.executors.ClusterExecutor.launch`).
        control: the driver's stop and kill requests for this trial.
        worker: the worker's name, recorded on the trial.
        isolate: run in a killable child process (needed to enforce ``task.timeout``
            and to honour kill requests).
        grace: seconds between SIGTERM and SIGKILL when an isolated trial is ended.
        forward: sends reports to the driver as they are made (optional).
        env: environment of the child process (isolated trials only), e.g.
            ``CUDA_VISIBLE_DEVICES``.
    """
    task = task_from_wire(task_wire)
    channel = WorkerChannel(control, forward)
    if control.kill_requested():  # cancelled before it started here
        now = time.time()
        outcome = TrialOutcome(
            task.trial_id, TrialStatus.CANCELLED, reason="cancelled before it started",
            started=now, finished=now, worker=worker, host=HOST,
        )  # fmt: skip
    elif isolate:
        from hyperhive.executors._isolated import host_for_thread

        outcome = host_for_thread().run(
            key, fetch, task, channel, control, grace=grace, worker=worker, env=env
        )
    else:
        try:
            objective = load_objective(key, fetch)
        except BaseException as exc:  # noqa: BLE001 - reported as the trial's failure
            reason = (
                f"the objective could not be loaded on worker {worker}: {type(exc).__name__}: "
                f"{exc} (is it defined in a module the workers can import?)"
            )
            outcome = failed_outcome(task.trial_id, worker, reason, traceback.format_exc())
        else:
            outcome = run_trial(
                objective, task, channel, worker=worker, capture="proxy", interrupt=False
            )
    outcome.worker = worker
    try:
        pickle.dumps(outcome.metadata)
    except Exception as exc:  # noqa: BLE001 - the outcome must travel back
        outcome.metadata = {"unpicklable_metadata": repr(exc)}
    return outcome_to_wire(outcome), channel.reports


def release_children() -> int:
    """End the idle killable child processes of this worker process (those of isolated
    trials); returns how many were ended. An executor calls it on its workers when it
    closes (children also exit on their own after a minute without a task, and at once
    when their worker process dies)."""
    from hyperhive.executors._isolated import release_hosts

    return release_hosts()
