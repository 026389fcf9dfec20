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
can be reclaimed only once its peer's lease has expired. The store-level state:

- Redis: kept by the store's Lua scripts (:class:`~hyperhive.storage.redis.RedisStore`);
  leases are keys that expire on the server's clock.
- SQLite: derived from the journal inside one ``BEGIN IMMEDIATE`` transaction;
  leases are ``peer:<id>`` meta records with an expiry on the host's clock (SQLite
  runs share one host).
- Any other store: a lock in this process (peers must be threads of one process).
"""

from __future__ import annotations

import abc
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from hyperhive.storage import SQLiteStore, Store
from hyperhive.storage.base import prepare_events
from hyperhive.storage.codec import dumps, loads
from hyperhive.trial import TrialStatus, replay

__all__ = ["Coordinator", "coordinator_for"]

_COUNTED_SQL = ", ".join(f"'{s.value}'" for s in TrialStatus if s.counted)


class Coordinator(abc.ABC):
    """Atomic budget claims and peer leases over one store.

    Args:
        store: the shared store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    @abc.abstractmethod
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

    @abc.abstractmethod
    def heartbeat(self, peer: str, lease: float, info: Mapping[str, Any] | None = None) -> None:
        """Renew ``peer``'s lease for ``lease`` seconds."""

    @abc.abstractmethod
    def leave(self, peer: str) -> None:
        """End ``peer``'s lease now."""

    @abc.abstractmethod
    def live_peers(self, peers: Sequence[str]) -> set[str]:
        """The peers among ``peers`` whose lease has not expired."""

    def peers(self) -> dict[str, dict[str, Any]]:
        """Every peer that joined: its last heartbeat record, with ``alive``."""
        return {}

    def setdefault_meta(self, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` unless one is there; return the stored value."""
        current = self.store.get_meta(key)
        if current is None:
            self.store.set_meta(key, value)
            current = value
        return current


class _StoreCoordinator(Coordinator):
    """For stores that implement claims and leases themselves (Redis)."""

    def claim(self, submit, budget, *, adopt=None, lost=None):  # type: ignore[no-untyped-def]
        return self.store.claim(submit, budget, adopt=adopt, lost=lost)  # type: ignore[attr-defined]

    def heartbeat(self, peer, lease, info=None):  # type: ignore[no-untyped-def]
        self.store.heartbeat(peer, lease, info)  # type: ignore[attr-defined]

    def leave(self, peer):  # type: ignore[no-untyped-def]
        self.store.leave(peer)  # type: ignore[attr-defined]

    def live_peers(self, peers):  # type: ignore[no-untyped-def]
        return self.store.live_peers(list(peers))  # type: ignore[attr-defined]

    def setdefault_meta(self, key, value):  # type: ignore[no-untyped-def]
        return self.store.setdefault_meta(key, value)  # type: ignore[attr-defined]

    def peers(self):  # type: ignore[no-untyped-def]
        return self.store.peers()  # type: ignore[attr-defined]


def _adoption_events(
    submit: Mapping[str, Any], adopt: int | None, lost: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    ev = prepare_events([{**submit, "trial": None}])[0]
    if ev["kind"] != "submit":
        raise ValueError(f"claim takes a submit event, got {ev['kind']!r}")
    end = None
    if adopt is not None:
        ev["retry_of"] = int(adopt)
        end = {**(lost or {}), "kind": "end", "trial": int(adopt), "status": "lost"}
    return ev, end


class SQLiteCoordinator(Coordinator):
    """Claims as SQLite transactions over the journal; leases as meta records."""

    store: SQLiteStore

    def claim(self, submit, budget, *, adopt=None, lost=None):  # type: ignore[no-untyped-def]
        ev, end = _adoption_events(submit, adopt, lost)
        now = time.time()

        def write(conn: Any) -> int | None:
            insert = "INSERT INTO events (trial, kind, data) VALUES (?, ?, ?)"
            if adopt is not None and end is not None:
                first = conn.execute(
                    "SELECT json_extract(data, '$.status') FROM events "
                    "WHERE trial = ? AND kind = 'end' ORDER BY seq LIMIT 1",
                    (adopt,),
                ).fetchone()
                if first is None:
                    row = conn.execute(
                        "SELECT json_extract(data, '$.peer') FROM events "
                        "WHERE trial = ? AND kind = 'submit' ORDER BY seq LIMIT 1",
                        (adopt,),
                    ).fetchone()
                    if row is None or not row[0] or self._alive(conn, row[0], now):
                        return None
                    conn.execute(insert, (adopt, "end", dumps(end)))
                elif (
                    first[0] != TrialStatus.LOST.value
                    or conn.execute(
                        "SELECT 1 FROM events WHERE kind = 'submit' "
                        "AND json_extract(data, '$.retry_of') = ? LIMIT 1",
                        (adopt,),
                    ).fetchone()
                ):
                    return None
            if budget is not None and self._taken(conn) >= budget:
                return None
            (top,) = conn.execute("SELECT MAX(trial) FROM events").fetchone()
            tid = 0 if top is None else int(top) + 1
            conn.execute(insert, (tid, "submit", dumps({**ev, "trial": tid})))
            return tid

        return self.store._transact(write)

    @staticmethod
    def _taken(conn: Any) -> int:
        (counted,) = conn.execute(
            "SELECT COUNT(*) FROM (SELECT MIN(seq), data FROM events WHERE kind = 'end' "
            f"GROUP BY trial) WHERE json_extract(data, '$.status') IN ({_COUNTED_SQL})"
        ).fetchone()
        (n_open,) = conn.execute(
            "SELECT COUNT(DISTINCT trial) FROM events AS s WHERE kind = 'submit' AND NOT EXISTS "
            "(SELECT 1 FROM events AS e WHERE e.trial = s.trial AND e.kind = 'end')"
        ).fetchone()
        return int(counted) + int(n_open)

    @staticmethod
    def _alive(conn: Any, peer: str, now: float) -> bool:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"peer:{peer}",)).fetchone()
        if row is None:
            return False
        try:
            return float(loads(row[0]).get("expires") or 0.0) > now
        except (ValueError, TypeError, AttributeError):
            return False

    def heartbeat(self, peer, lease, info=None):  # type: ignore[no-untyped-def]
        now = time.time()
        record = {**(info or {}), "peer": peer, "seen": now, "lease": lease, "expires": now + lease}
        self.store.set_meta(f"peer:{peer}", record)

    def leave(self, peer):  # type: ignore[no-untyped-def]
        record = self.store.get_meta(f"peer:{peer}") or {}
        self.store.set_meta(f"peer:{peer}", {**record, "peer": peer, "expires": 0.0})

    def live_peers(self, peers):  # type: ignore[no-untyped-def]
        now = time.time()
        return {p for p in peers if self._alive(self.store._conn(), p, now)}

    def peers(self):  # type: ignore[no-untyped-def]
        rows = self.store._query("SELECT key, value FROM meta WHERE key LIKE 'peer:%'")
        now, out = time.time(), {}
        for key, text in rows:
            try:
                record = loads(text)
            except (ValueError, TypeError):
                continue
            if isinstance(record, dict):
                alive = float(record.get("expires") or 0.0) > now
                out[key[len("peer:") :]] = {**record, "alive": alive}
        return out

    def setdefault_meta(self, key, value):  # type: ignore[no-untyped-def]
        text = dumps(value)
        self.store._transact(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, text)
            )
        )
        return self.store.get_meta(key)


class LocalCoordinator(Coordinator):
    """Claims under a lock of this process (for a store shared by threads only)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._lock = threading.Lock()
        self._leases: dict[str, float] = {}

    def claim(self, submit, budget, *, adopt=None, lost=None):  # type: ignore[no-untyped-def]
        ev, end = _adoption_events(submit, adopt, lost)
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

    def heartbeat(self, peer, lease, info=None):  # type: ignore[no-untyped-def]
        with self._lock:
            self._leases[peer] = time.monotonic() + lease

    def leave(self, peer):  # type: ignore[no-untyped-def]
        with self._lock:
            self._leases.pop(peer, None)

    def live_peers(self, peers):  # type: ignore[no-untyped-def]
        now = time.monotonic()
        with self._lock:
            return {p for p in peers if self._leases.get(p, 0.0) > now}

    def peers(self):  # type: ignore[no-untyped-def]
        now = time.monotonic()
        with self._lock:
            return {p: {"peer": p, "alive": t > now} for p, t in self._leases.items()}


_LOCAL: weakref.WeakKeyDictionary[Store, LocalCoordinator] = weakref.WeakKeyDictionary()


def coordinator_for(store: Store) -> Coordinator:
    """The coordinator for ``store``: its own claims (Redis), SQLite transactions, or a lock.

    Raises:
        TypeError: ``store`` is shared by processes but supports no atomic claims.
    """
    if callable(getattr(store, "claim", None)) and callable(getattr(store, "heartbeat", None)):
        return _StoreCoordinator(store)
    if isinstance(store, SQLiteStore):
        return SQLiteCoordinator(store)
    if "multiprocess" in store.capabilities:
        raise TypeError(
            f"{type(store).__name__} cannot make atomic budget claims across processes; "
            "decentralized search needs a Redis or SQLite store"
        )
    coord = _LOCAL.get(store)
    if coord is None:
        coord = _LOCAL[store] = LocalCoordinator(store)
    return coord
