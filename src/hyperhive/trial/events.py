"""Trial events: the records of the journal, and how trials are rebuilt from them.

A store keeps an append-only list of JSON events. Every trial is rebuilt by
replaying its events in order; nothing else is stored.

Event kinds (each a JSON object with ``kind`` and ``trial``):

``submit``
    ``config``, ``seed``, ``time``, ``attempt``, ``retry_of``, ``peer``: the trial exists
    and has been handed to a worker (status ``running``; ``pending`` when ``queued`` is true).
``start``
    ``time``, ``worker``, ``host``: optional, the worker began the objective.
``report``
    ``step``, ``value``, ``time``: an intermediate value.
``end``
    ``status``, ``objective``, ``constraints``, ``metadata``, ``reason``, ``traceback``,
    ``started``, ``finished``, ``worker``, ``host``: the trial ended. The first ``end``
    of a trial wins; a later one (a late result of a reclaimed trial) is ignored.

Decentralized peers (:func:`hyperhive.worker`) add no kinds: a budget claim is a
``submit`` naming its ``peer``; a trial released on SIGTERM, or reclaimed after its
peer's lease expired, gets an ``end`` with status ``lost``, and its re-run is a
``submit`` with ``retry_of``. Leases live outside the journal
(:mod:`hyperhive.storage.claims`).
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Mapping
from typing import Any

from hyperhive.trial.record import Report, Trial, TrialStatus


def submit_event(
    trial_id: int | None,
    config: Mapping[str, Any],
    *,
    seed: int | None = None,
    attempt: int = 0,
    retry_of: int | None = None,
    peer: str | None = None,
    queued: bool = False,
    time: float | None = None,
) -> dict[str, Any]:
    """Build a ``submit`` event (``trial_id=None`` lets the store assign an id)."""
    return {
        "kind": "submit",
        "trial": trial_id,
        "config": dict(config),
        "seed": seed,
        "attempt": attempt,
        "retry_of": retry_of,
        "peer": peer,
        "queued": queued,
        "time": _time.time() if time is None else time,
    }


def report_event(trial_id: int, step: int | None, value: Any, time: float) -> dict[str, Any]:
    """Build a ``report`` event."""
    if isinstance(value, tuple):
        value = list(value)
    return {"kind": "report", "trial": trial_id, "step": step, "value": value, "time": time}


def finish_event(
    trial_id: int,
    status: TrialStatus | str,
    *,
    objective: float | tuple[float, ...] | None = None,
    constraints: tuple[float, ...] | None = None,
    metadata: Mapping[str, Any] | None = None,
    reason: str | None = None,
    traceback: str | None = None,
    started: float | None = None,
    finished: float | None = None,
    worker: str | None = None,
    host: str | None = None,
) -> dict[str, Any]:
    """Build the ``end`` event of a trial (``finished`` defaults to now).

    The search builds it from what the executor (or ``Run.tell``) returned, commits
    it, and only then applies it to the trial record.
    """
    return {
        "kind": "end",
        "trial": trial_id,
        "status": TrialStatus(status).value,
        "objective": list(objective) if isinstance(objective, tuple) else objective,
        "constraints": list(constraints) if constraints is not None else None,
        "metadata": dict(metadata or {}),
        "reason": reason,
        "traceback": traceback,
        "started": started,
        "finished": _time.time() if finished is None else finished,
        "worker": worker,
        "host": host,
    }


def end_event(trial: Trial) -> dict[str, Any]:
    """Build the ``end`` event that gives a trial record the result it holds."""
    return finish_event(
        trial.id,
        trial.status,
        objective=trial.objective,
        constraints=trial.constraints,
        metadata=trial.metadata,
        reason=trial.reason,
        traceback=trial.traceback,
        started=trial.started,
        finished=trial.finished,
        worker=trial.worker,
        host=trial.host,
    )


def apply_event(trials: dict[int, Trial], event: Mapping[str, Any]) -> Trial | None:
    """Apply one event to a table of trials; returns the trial it touched (or None)."""
    kind = event.get("kind")
    tid = event.get("trial")
    if tid is None:
        return None
    tid = int(tid)
    if kind == "submit":
        if tid in trials:
            return None
        t = Trial(
            id=tid,
            config=dict(event.get("config") or {}),
            status=TrialStatus.PENDING if event.get("queued") else TrialStatus.RUNNING,
            seed=event.get("seed"),
            submitted=event.get("time"),
            attempt=int(event.get("attempt") or 0),
            retry_of=event.get("retry_of"),
            peer=event.get("peer"),
        )
        trials[tid] = t
        return t
    found = trials.get(tid)
    if found is None:
        return None
    t = found
    if kind == "start":
        if t.status.finished:
            return None
        t.status = TrialStatus.RUNNING
        t.started = event.get("time", t.started)
        t.worker = event.get("worker", t.worker)
        t.host = event.get("host", t.host)
        return t
    if kind == "report":
        raw = event.get("value")
        # a non-finite value was stored as null: kept as None
        value: Any = tuple(raw) if isinstance(raw, list) else raw
        t.reports.append(Report(event.get("step"), value, event.get("time", 0.0)))
        return t
    if kind == "end":
        if t.status.finished:
            return None
        t.status = TrialStatus(event["status"])
        obj = event.get("objective")
        t.objective = tuple(obj) if isinstance(obj, list) else obj
        cons = event.get("constraints")
        t.constraints = tuple(cons) if cons is not None else None
        t.metadata = dict(event.get("metadata") or {})
        t.reason = event.get("reason")
        t.traceback = event.get("traceback")
        t.started = event.get("started", t.started)
        t.finished = event.get("finished")
        t.worker = event.get("worker", t.worker)
        t.host = event.get("host", t.host)
        return t
    return None


def replay(events: Iterable[Mapping[str, Any]]) -> dict[int, Trial]:
    """Rebuild every trial from a sequence of events, keyed by id (insertion order)."""
    trials: dict[int, Trial] = {}
    for event in events:
        apply_event(trials, event)
    return trials
