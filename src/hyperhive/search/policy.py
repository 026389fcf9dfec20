"""How the one search loop creates trials and commits events: the commit policy.

:class:`CommitPolicy` is the small part of :class:`~hyperhive.search.core.Loop` that
differs between a central search (``hh.search``: :class:`CentralCommit`, one
driver appends to the journal and applies what it appended) and a decentralized
peer (``hh.worker``: :class:`~hyperhive.search.peer.PeerCommit`, atomic budget
claims and reads of a store that other peers write too).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hyperhive.search.state import RunState
from hyperhive.storage.lock import DriverLock
from hyperhive.trial import Trial, TrialStatus, finish_event, submit_event

if TYPE_CHECKING:
    from hyperhive.search.core import Loop
    from hyperhive.search.decisions import Pick

__all__ = ["DRIVER_STOPPED", "CentralCommit", "CommitPolicy"]

DRIVER_STOPPED = "the driver stopped before the trial finished; re-run on resume"


class CommitPolicy:
    """What a loop's mode decides. Subclasses implement :meth:`begin`, :meth:`create`
    and :meth:`commit`; the other hooks have the central search's defaults.

    Attributes:
        name: names the loop in log messages.
        poll: seconds between calls of :meth:`remote_stop`.
        wait: longest wait for an outcome before the loop looks around again.
        grace: on a signal or timeout, seconds running trials may finish in.
        batches_reports: reports wait to be committed with the next trials or outcome.
        reads_back: the loop reads back every event of the store (its own and others').

    The simulator (:mod:`hyperhive.simulate`) charges store round trips by
    :attr:`reads_back` and :meth:`create_round_trips`, so that it models the loop
    that runs.
    """

    name = "search"
    poll = math.inf
    wait = 0.5
    grace = 0.0
    batches_reports = True
    reads_back = False

    @staticmethod
    def create_round_trips(k: int) -> int:
        """Store round trips :meth:`create` makes for ``k`` trials (one atomic append)."""
        return 1 if k > 0 else 0

    def __init__(self, state: RunState) -> None:
        self.state = state

    def begin(self, loop: Loop) -> list[Trial]:
        """Prepare the run for the loop; returns its trials so far (replayed, no callbacks)."""
        raise NotImplementedError

    def create(self, loop: Loop, picks: Sequence[tuple[Pick, int]]) -> list[tuple[Trial, int]]:
        """Journal the picked trials; returns ``(trial, slots)`` for those created."""
        raise NotImplementedError

    def commit(self, events: list[dict[str, Any]]) -> tuple[list[Trial], list[Trial]]:
        """Journal ``events`` and apply them; returns the trials their ``submit`` events
        created and every trial of the table that changed."""
        raise NotImplementedError

    def changes(self, loop: Loop) -> list[Trial]:
        """Trials others changed since the last look (none for a central search)."""
        return []

    def reclaimable(self, loop: Loop, n: int) -> list[Pick]:
        """Up to ``n`` trials to take over from others (none for a central search)."""
        return []

    def always_retry(self, trial: Trial) -> bool:
        """Whether a lost trial is re-run whatever its attempt count."""
        return False

    def remote_stop(self, loop: Loop) -> str | None:
        """Why someone else stopped the run, or None."""
        return None

    def release(self, reason: str, interrupted: bool) -> tuple[TrialStatus, str]:
        """The status and reason trials still running at the end get."""
        return TrialStatus.CANCELLED, f"search ended: {reason}"

    def ended(self, loop: Loop, reason: str) -> None:
        """Called once the loop decided to end, before its trials are released."""

    def progress_info(self) -> dict[str, Any]:
        """Extra entries of the progress dict."""
        return {}

    def close(self) -> None:
        """Called once when :meth:`Loop.drive` returns (or raises): give up what
        :meth:`begin` took."""


class CentralCommit(CommitPolicy):
    """One driver owns the run: every batch of events is one atomic append, applied
    to the table at once (the driver's own writes are all there is to read).

    With a run directory the driver holds its :class:`~hyperhive.storage.DriverLock`
    from :meth:`begin` until :meth:`close` (a second driver is refused with
    :class:`~hyperhive.storage.RunLockedError`); with a Redis store and a run
    directory the lock is on the run directory too, and without a run directory
    there is none.

    Args:
        state: the run.
        lock: the run directory's lock, when the caller took it already (``hh.search``
            takes it before the run's metadata is written); None: :meth:`begin` takes
            ``state.run_dir``'s.
    """

    def __init__(self, state: RunState, lock: DriverLock | None = None) -> None:
        super().__init__(state)
        if lock is None and state.run_dir is not None:
            lock = state.run_dir.driver_lock()
        self.lock = lock

    def begin(self, loop: Loop) -> list[Trial]:
        """Take the run's lock; load the run; end trials a dead driver left running as
        ``lost`` (they are re-run, whatever their attempt count).

        Raises:
            RunLockedError: another driver holds the run directory.
        """
        if self.lock is not None:
            self.lock.acquire()
        state = self.state
        state.load()
        now = time.time()
        events = [
            finish_event(t.id, TrialStatus.LOST, reason=DRIVER_STOPPED, finished=now)
            for t in state.trials.values()
            if not t.status.finished
        ]
        state.commit(events)
        return sorted(state.trials.values(), key=lambda t: t.id)

    def always_retry(self, trial: Trial) -> bool:
        """Trials a stopped driver left running are re-run, however often they were."""
        return trial.reason == DRIVER_STOPPED

    def create(self, loop: Loop, picks: Sequence[tuple[Pick, int]]) -> list[tuple[Trial, int]]:
        """One atomic append: the pending events and a ``submit`` per pick."""
        events = [
            submit_event(None, p.config, attempt=p.attempt, retry_of=p.retry_of) for p, _ in picks
        ]
        created = loop.flush(events)
        return [(t, need) for t, (_, need) in zip(created, picks, strict=True)]

    def commit(self, events: list[dict[str, Any]]) -> tuple[list[Trial], list[Trial]]:
        """Append and apply (see :meth:`RunState.commit`)."""
        return self.state.commit(events)

    def close(self) -> None:
        """Release the run's lock."""
        if self.lock is not None:
            self.lock.release()
