"""The one wire protocol between a driver (or a cluster worker) and a child process
that runs trials: message kinds, and the plain-tuple encodings of tasks and outcomes.

Every message is a tuple whose first item is a :class:`Msg`, pickled with
:mod:`pickle` into one ``send_bytes``. The same encodings of tasks and outcomes are
what the Dask, Ray and MPI executors send through their engines.

parent to child
    ``(LOAD, key, payload, sys_path)``: the pickled objective (cloudpickle);
    ``(TASK, task_wire, stop, ack)``: run one trial (``stop``: already asked to stop;
    ``ack``: answer ``ACK`` when it starts); ``(STOP, trial_id)``; ``(EXIT,)``.
child to parent
    ``(HELLO, pid, pgid)``: started; ``(ACK, trial_id)``;
    ``(REPORT, trial_id, seq, step, value, time)``; ``(DONE, outcome_wire)``.

Kept free of engine imports: it is loaded in every child process, Dask and Ray
worker and MPI rank.
"""

from __future__ import annotations

import enum
import pickle
import time
from typing import Any

from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.executors.runner import HOST
from hyperhive.trial import TrialStatus

__all__ = [
    "Msg",
    "dumps",
    "failed_outcome",
    "loads",
    "outcome_from_wire",
    "outcome_to_wire",
    "task_from_wire",
    "task_to_wire",
]


class Msg(enum.IntEnum):
    """Message kinds (the first item of every message; sent as a plain int)."""

    LOAD = 1
    TASK = 2
    STOP = 3
    EXIT = 4
    HELLO = 11
    ACK = 12
    REPORT = 13
    DONE = 14


_PROTOCOL = pickle.HIGHEST_PROTOCOL


def dumps(kind: Msg, *fields: Any) -> bytes:
    """Encode one message."""
    return pickle.dumps((kind.value, *fields), _PROTOCOL)


loads = pickle.loads


def outcome_to_wire(o: TrialOutcome) -> tuple[Any, ...]:
    """An outcome as a tuple of plain values (much quicker to pickle than the dataclass)."""
    return (
        o.trial_id, o.status.value, o.objective, o.constraints, o.metadata, o.reason,
        o.traceback, o.started, o.finished, o.worker, o.host,
    )  # fmt: skip


def outcome_from_wire(fields: tuple[Any, ...] | list[Any]) -> TrialOutcome:
    """Inverse of :func:`outcome_to_wire` (lists, as msgpack returns them, become tuples)."""
    tid, status, objective, constraints, metadata, reason, trace, *rest = fields
    if isinstance(objective, list):
        objective = tuple(objective)
    if isinstance(constraints, list):
        constraints = tuple(constraints)
    return TrialOutcome(
        tid, TrialStatus(status), objective, constraints, metadata or {}, reason, trace, *rest
    )


def task_to_wire(t: TrialTask) -> tuple[Any, ...]:
    """A task as a tuple of plain values."""
    return (t.trial_id, t.config, t.seed, t.artifact_dir, t.timeout, t.capture_output)


def task_from_wire(fields: tuple[Any, ...] | list[Any]) -> TrialTask:
    """Inverse of :func:`task_to_wire`."""
    return TrialTask(*fields)


def failed_outcome(
    trial_id: int, worker: str, reason: str, trace: str | None = None
) -> TrialOutcome:
    """A ``failed`` outcome made on the worker (the objective never ran)."""
    now = time.time()
    return TrialOutcome(
        trial_id, TrialStatus.FAILED, reason=reason, traceback=trace, started=now,
        finished=now, worker=worker, host=HOST,
    )  # fmt: skip
