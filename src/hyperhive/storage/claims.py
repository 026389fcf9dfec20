"""Budget claims and leases: what lets independent peers share one store.

A decentralized run (:func:`hyperhive.worker`) keeps ``max_evals`` exact with one
rule, checked atomically in the store each time a peer creates a trial: the trials
counted so far plus the trials open (submitted, not ended) never exceed the
budget. A trial ends ``lost`` when its peer releases it (SIGTERM) or when another
peer reclaims it after its peer's lease expired; a lost trial frees its slot and
is re-run once by whichever peer adopts it (a ``submit`` with ``retry_of``). The
first ``end`` of a trial wins, so the late result of a reclaimed trial stays in
the journal as data but is not counted (fencing).

Leases are per peer: a peer renews its own from a heartbeat thread, and a trial
can be reclaimed only once its peer's lease has expired. Every store that peers
share implements :class:`ClaimStore`:

- Redis (:class:`~hyperhive.storage.redis.RedisStore`): Lua scripts; leases are
  keys that expire on the server's clock.
- SQLite (:class:`~hyperhive.storage.sqlite.SQLiteStore`): one ``BEGIN IMMEDIATE``
  transaction over the journal (:mod:`hyperhive.storage.sqlite_claims`); leases are
  ``peer:<id>`` meta records with an expiry on the host's clock (SQLite runs share
  one host).
- Any other store that only one process uses (memory): :class:`LocalClaims`, a lock
  of this process (peers must be threads of one process).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from hyperhive.storage.base import Store, prepare_events
from hyperhive.trial import TrialStatus, replay

__all__ = ["ClaimStore", "LocalClaims", "adoption_events", "claims_for"]


@runtime_checkable
class ClaimStore(Protocol):
    """Atomic budget claims and peer leases over one store."""

    def claim(
        self,
        submit: Mapping[str, Any],
        budget: int | None,
        *,
        adopt: int | None = None,
        lost: Mapping[str, Any] | None = None,
    ) -> int | None:
        """Append ``submit`` with a fresh trial id if the budget allows, atomically.

        Args:
            submit: the ``submit`` event.
            budget: counted plus open trials may not exceed it (None: no limit).
            adopt: make the trial a retry of this one, which must be ``lost`` and not
                retried yet, or open under a peer whose lease expired (it is then
                ended with ``lost`` first).
            lost: the ``end`` event used to reclaim ``adopt``.

        Returns:
            The new trial id, or None when refused.
        """
        ...

    def heartbeat(self, peer: str, lease: float, info: Mapping[str, Any] | None = None) -> None:
        """Renew ``peer``'s lease for ``lease`` seconds."""
        ...

    def leave(self, peer: str) -> None:
        """End ``peer``'s lease now."""
        ...

    def live_peers(self, peers: Sequence[str]) -> set[str]:
        """The peers among ``peers`` whose lease has not expired."""
        ...

    def peers(self) -> dict[str, dict[str, Any]]:
        """Every peer that joined: its last heartbeat record, with ``alive``."""
        ...

    def setdefault_meta(self, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` unless one is there; return the stored value."""
        ...

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent)."""
        ...

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        ...


def adoption_events(
    submit: Mapping[str, Any], adopt: int | None, lost: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The checked ``submit`` event of a claim and, with ``adopt``, the ``lost`` end event.

    Raises:
        ValueError: ``submit`` is not a submit event.
    """
    ev = prepare_events([{**submit, "trial": None}])[0]
    if ev["kind"] != "submit":
        raise ValueError(f"claim takes a submit event, got {ev['kind']!r}")
    end = None
    if adopt is not None:
        ev["retry_of"] = int(adopt)
        end = {**(lost or {}), "kind": "end", "trial": int(adopt), "status": "lost"}
    return ev, end


class LocalClaims:
    """Claims under a lock of this process, for a store shared by threads only.

    Args:
        store: the store (its journal is replayed under the lock at each claim).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._leases: dict[str, float] = {}

    def claim(
        self,
        submit: Mapping[str, Any],
        budget: int | None,
        *,
        adopt: int | None = None,
        lost: Mapping[str, Any] | None = None,
    ) -> int | None:
        """See :meth:`ClaimStore.claim`."""
        ev, end = adoption_events(submit, adopt, lost)
        with self._lock:
            trials = replay(e for _, e in self.store.events())
            batch: list[dict[str, Any]] = []
            if adopt is not None and end is not None:
                old = trials.get(int(adopt))
                if old is None:
                    return None
                if not old.status.finished:
                    if not old.peer or self._leases.get(old.peer, 0.0) > time.monotonic():
                        return None
                    batch.append(end)
                elif old.status != TrialStatus.LOST or any(
                    t.retry_of == adopt for t in trials.values()
                ):
                    return None
            taken = sum(1 for t in trials.values() if t.counted or not t.status.finished)
            if budget is not None and taken - len(batch) >= budget:
                if batch:
                    self.store.append(batch)
                return None
            return self.store.append([*batch, ev])[-1]

    def heartbeat(self, peer: str, lease: float, info: Mapping[str, Any] | None = None) -> None:
        """See :meth:`ClaimStore.heartbeat`."""
        with self._lock:
            self._leases[peer] = time.monotonic() + lease

    def leave(self, peer: str) -> None:
        """See :meth:`ClaimStore.leave`."""
        with self._lock:
            self._leases.pop(peer, None)

    def live_peers(self, peers: Sequence[str]) -> set[str]:
        """See :meth:`ClaimStore.live_peers`."""
        now = time.monotonic()
        with self._lock:
            return {p for p in peers if self._leases.get(p, 0.0) > now}

    def peers(self) -> dict[str, dict[str, Any]]:
        """See :meth:`ClaimStore.peers`."""
        now = time.monotonic()
        with self._lock:
            return {p: {"peer": p, "alive": t > now} for p, t in self._leases.items()}

    def setdefault_meta(self, key: str, value: Any) -> Any:
        """See :meth:`ClaimStore.setdefault_meta`."""
        with self._lock:
            current = self.store.get_meta(key)
            if current is None:
                self.store.set_meta(key, value)
                current = value
            return current

    def get_meta(self, key: str) -> Any | None:
        """See :meth:`Store.get_meta`."""
        return self.store.get_meta(key)

    def set_meta(self, key: str, value: Any) -> None:
        """See :meth:`Store.set_meta`."""
        self.store.set_meta(key, value)


_LOCAL: weakref.WeakKeyDictionary[Store, LocalClaims] = weakref.WeakKeyDictionary()


def claims_for(store: Store) -> ClaimStore:
    """The claims of ``store``: its own (Redis, SQLite), or a lock of this process.

    Raises:
        TypeError: ``store`` is shared by processes but supports no atomic claims.
    """
    if isinstance(store, ClaimStore):
        return store
    if "multiprocess" in store.capabilities:
        raise TypeError(
            f"{type(store).__name__} cannot make atomic budget claims across processes; "
            "decentralized search needs a Redis or SQLite store"
        )
    local = _LOCAL.get(store)
    if local is None:
        local = _LOCAL[store] = LocalClaims(store)
    return local
