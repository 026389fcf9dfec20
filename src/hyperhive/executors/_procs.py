"""The driver's record of a slot process, and process-group helpers (POSIX)."""

from __future__ import annotations

import os
import signal
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any

import psutil

from hyperhive.executors.base import TrialOutcome, TrialTask
from hyperhive.trial import TrialStatus

__all__ = ["SIGKILL", "SlotState", "describe_exit", "group_alive", "send_signal"]

SIGKILL: int = getattr(signal, "SIGKILL", signal.SIGTERM)


class SlotState:
    """The driver's record of one slot process and the trial it runs."""

    def __init__(self, index: int, proc: Any, conn: Connection) -> None:
        self.index = index
        self.proc = proc
        self.conn = conn
        self.sentinel: int = proc.sentinel
        self.pid: int = proc.pid
        self.group = False  # True once the slot reported that it leads its process group
        self.ready = False  # True once the slot said hello
        self.task: TrialTask | None = None
        self.future: Future[TrialOutcome] | None = None
        self.started = 0.0
        self.deadline: float | None = None  # monotonic time of trial_timeout
        self.ending: tuple[TrialStatus, str] | None = None  # set when the driver ends the trial
        self.kill_at: float | None = None  # monotonic time of SIGKILL
        self.term_sent = False
        self.exiting = False
        self.conn_open = True
        self.ran = False  # True once it ran a trial (its first wait is start-up, not a gap)
        self.idle_at: float | None = None  # monotonic time it was parked without a trial


def describe_exit(code: int | None) -> str:
    """Say in words how a process ended, from its exit code (negative: a signal)."""
    if code is None:
        return "ended with an unknown status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text = f"was killed by {name} (signal {-code})"
        if -code == SIGKILL:
            text += "; out of memory?"
        return text
    return f"exited with code {code}"


def send_signal(pid: int, sig: int, group: bool) -> None:
    """Send ``sig`` to the process group ``pid`` (``group``) or to the process ``pid``.

    A process or group that is already gone is not an error.
    """
    try:
        if group and hasattr(os, "killpg"):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """True while a process of the group ``pgid`` runs.

    Zombies waiting to be reaped by init do not count.
    """
    if not hasattr(os, "killpg"):
        return False
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for pid in psutil.pids():
        try:
            if os.getpgid(pid) == pgid and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return True
        except (OSError, psutil.Error):
            continue
    return False
