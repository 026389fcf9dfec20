"""The commit policy of a decentralized peer (``hh.worker``): claim and sync.

A peer creates trials only through atomic budget claims
(:class:`~hyperhive.storage.claims.ClaimStore`), so ``max_evals`` is exact across
peers; it appends its reports and outcomes to the shared store and reads back what
every peer committed, so its trial table is always the replay of the shared journal
(its own new trials are applied from their ``submit`` event at once). It renews a
lease from its own thread (:class:`Heartbeat`); a peer that dies loses only its
running trials, which another peer reclaims (:meth:`PeerCommit.reclaimable`) and
re-runs once the lease has expired.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hyperhive.search.decisions import Pick
from hyperhive.search.policy import CommitPolicy
from hyperhive.search.state import RunState
from hyperhive.storage.claims import ClaimStore
from hyperhive.trial import Trial, TrialStatus, finish_event, submit_event

if TYPE_CHECKING:
    from hyperhive.search.core import Loop

__all__ = ["STOP_KEY", "Heartbeat", "PeerCommit"]

logger = logging.getLogger("hyperhive")

#: Reasons of trials a peer left through no fault of their own (always re-run, and not
#: counted as worker deaths): the peer was interrupted, or it died and its lease expired.
RELEASED = "released by peer {peer}: {reason}"
RECLAIMED = "the lease of peer {peer} expired; reclaimed by peer {by}"

STOP_KEY = "stop"
"""The meta key a peer sets to stop every peer (a callback's stop, ``max_failures``): its
reason and ``max_evals``; a peer started later with a larger ``max_evals`` continues."""


def _prefix(template: str) -> str:
    """The fixed start of a reason template (up to its first field)."""
    return template.split("{", 1)[0]


class Heartbeat(threading.Thread):
    """Renews a peer's lease every ``lease / 3`` seconds from its own (daemon) thread.

    A failed renewal is logged and tried again at the next beat.
    """

    def __init__(
        self, claims: ClaimStore, peer: str, lease: float, info: Mapping[str, Any]
    ) -> None:
        super().__init__(name=f"hyperhive-heartbeat-{peer}", daemon=True)
        self.claims, self.peer, self.lease, self.info = claims, peer, lease, dict(info)
        self._halt = threading.Event()

    def beat(self) -> None:
        """Renew the lease now."""
        self.claims.heartbeat(self.peer, self.lease, self.info)

    def run(self) -> None:
        while not self._halt.wait(self.lease / 3.0):
            try:
                self.beat()
            except Exception as exc:  # noqa: BLE001 - keep beating; the store may come back
                logger.warning("peer %s: lease renewal failed: %r", self.peer, exc)

    def stop(self) -> None:
        """Stop renewing (the lease then expires unless the peer leaves)."""
        self._halt.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(5.0)


class PeerCommit(CommitPolicy):
    """Claim-and-sync through a shared store.

    Args:
        state: the run (its store is the shared one).
        claims: the store's claims.
        name: this peer's name.
        max_evals: the budget every claim checks.
        grace: seconds to let running trials finish on a signal or timeout.
        poll: seconds between looks at other peers (stop record, leases).
    """

    batches_reports = False
    reads_back = True

    @staticmethod
    def create_round_trips(k: int) -> int:
        """One atomic claim per trial."""
        return k

    def __init__(
        self,
        state: RunState,
        claims: ClaimStore,
        name: str,
        max_evals: int | None,
        grace: float,
        poll: float,
    ) -> None:
        super().__init__(state)
        self.claims, self.name, self.max_evals = claims, name, max_evals
        self.grace, self.poll, self.wait = grace, poll, poll
        self.dead: set[str] = set()
        self.last_look = -1e18

    def begin(self, loop: Loop) -> list[Trial]:
        """Read the run so far."""
        self.state.load()
        return sorted(self.state.trials.values(), key=lambda t: t.id)

    def changes(self, loop: Loop) -> list[Trial]:
        """Read what any peer committed since the last look."""
        return self.state.load()

    def commit(self, events: list[dict[str, Any]]) -> tuple[list[Trial], list[Trial]]:
        """Append to the shared store, then read back (with every other peer's events)."""
        self.state.store.append(events)
        return [], self.state.load()

    def reclaimable(self, loop: Loop, n: int) -> list[Pick]:
        """Open trials of peers whose lease expired (looked up at most every ``poll`` s)."""
        others = [t for t in loop.open.values() if t.peer and t.peer != self.name]
        if not others:
            return []
        now = time.monotonic()
        if now - self.last_look >= self.poll:
            self.last_look = now
            owners = sorted({t.peer for t in others if t.peer})
            self.dead = set(owners) - self.claims.live_peers(owners)
        found = [t for t in others if t.peer in self.dead]
        return [Pick(dict(t.config), t.attempt + 1, t.id, reclaim=t) for t in found[:n]]

    def create(self, loop: Loop, picks: Sequence[tuple[Pick, int]]) -> list[tuple[Trial, int]]:
        """Claim a budget slot per pick. A refused reclaim is dropped (the peer is alive
        after all, or another peer was faster); any other refusal (no budget now, or the
        trial was re-run elsewhere, which the next read shows) puts that pick and the
        rest back at the head of the loop's queue."""
        out: list[tuple[Trial, int]] = []
        for i, (pick, need) in enumerate(picks):
            submit = submit_event(
                None, pick.config, attempt=pick.attempt, retry_of=pick.retry_of, peer=self.name
            )
            lost = None
            if pick.reclaim is not None:
                lost = finish_event(
                    pick.reclaim.id,
                    TrialStatus.LOST,
                    reason=RECLAIMED.format(peer=pick.reclaim.peer, by=self.name),
                )
            tid = self.claims.claim(submit, self.max_evals, adopt=pick.retry_of, lost=lost)
            if tid is None:
                if pick.reclaim is not None:
                    self.dead.discard(pick.reclaim.peer or "")
                    continue
                rest = [p for p, _ in picks[i:] if p.reclaim is None]
                loop.queue.extendleft(reversed(rest))
                break
            if pick.retry_of is not None:
                logger.info("peer %s re-runs trial %d as trial %d", self.name, pick.retry_of, tid)
            t = self.state.apply({**submit, "trial": tid})
            if t is not None:
                out.append((t, need))
        return out

    def always_retry(self, trial: Trial) -> bool:
        """Trials a peer left (interrupted, or dead with its lease expired) are re-run,
        however often that happened: their worker did not die of them."""
        reason = trial.reason or ""
        return reason.startswith(_prefix(RELEASED)) or reason.startswith(_prefix(RECLAIMED))

    def remote_stop(self, loop: Loop) -> str | None:
        """The reason another peer stopped the run, unless this peer has a larger budget."""
        record = self.state.store.get_meta(STOP_KEY)
        if not isinstance(record, dict) or not record.get("reason"):
            return None
        theirs = record.get("max_evals")
        if self.max_evals is not None and theirs is not None and self.max_evals > theirs:
            return None
        return str(record["reason"])

    def ended(self, loop: Loop, reason: str) -> None:
        """A stop decided here (a callback, ``max_failures``) stops every peer."""
        local = reason == loop.view.stop_reason or reason.startswith("max_failures")
        if local and not loop.remote_stop:
            with contextlib.suppress(Exception):
                self.state.store.set_meta(STOP_KEY, {"reason": reason, "max_evals": self.max_evals})

    def release(self, reason: str, interrupted: bool) -> tuple[TrialStatus, str]:
        """Interrupted: ``lost`` (another peer re-runs them); else ``cancelled``."""
        if interrupted:
            return TrialStatus.LOST, RELEASED.format(peer=self.name, reason=reason)
        return TrialStatus.CANCELLED, f"search ended: {reason}"

    def progress_info(self) -> dict[str, Any]:
        """The peer's name."""
        return {"peer": self.name}
