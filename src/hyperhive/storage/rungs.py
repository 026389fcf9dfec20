"""Rung summaries for stoppers: the values trials reached at each rung, shared by peers.

A stopper decides from these summaries, never by rescanning every trial's history.
A rung is a step (an epoch) at which a stopper compares trials; records are grouped
under a ``key`` (one per stopper, or per Hyperband bracket). Values are always losses
(smaller is better, one per objective; the stopper negates maximized objectives), and
a non-finite value is stored as ``+inf`` (the worst).

What a decision needs, and what each store answers without reading every record:

``record(key, trial_id, rung, values) -> bool``
    keep a trial's values at a rung; the first record of a (trial, rung) wins, so a
    repeated report changes nothing (True when the record is new).
``count(key, rung) -> int``
    how many trials have a record at the rung (SQLite keeps the sizes in a table that a
    trigger updates, so this reads one row).
``dominating(key, rung, values) -> int``
    how many records at the rung dominate ``values`` (no worse in every objective,
    better in one). With one objective: how many are strictly smaller. One
    objective is answered from an ordered index (memory: a sorted list; SQLite: an
    index; Redis: a sorted set) in O(log n) (SQLite counts index entries); several
    objectives read that one rung's records.
``trial(key, trial_id) -> dict[rung, values]``
    one trial's own records (its learning curve, for the rules that need it).
``record_rank(key, trial_id, rung, values) -> (new, count, dominating)``
    the three above in one call (one round trip through Redis), what ASHA and the
    median rule need per decision.
``best(key, rung, k) -> [(trial_id, values), ...]``
    the ``k`` best records at a rung: smallest first value (ties by trial id) with one
    objective, from the ordered index; with several, fewest dominating records (then
    the values), from a scan of that rung.

Three implementations: :class:`MemoryRungs` (one process), :class:`SQLiteRungs`
(tables in the run's ``journal.sqlite``, through their own connections, so processes
on one host share them) and :class:`~hyperhive.storage.redis_rungs.RedisRungs` (peers on
many hosts). :func:`rungs_for` picks the one that matches a journal store.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["MemoryRungs", "RungStore", "SQLiteRungs", "dominates_count", "rungs_for"]

Values = tuple[float, ...]


@runtime_checkable
class RungStore(Protocol):
    """What a stopper reads and writes: per-rung records of trials' losses."""

    def record(self, key: str, trial_id: int, rung: int, values: Sequence[float]) -> bool:
        """Keep ``values`` for ``trial_id`` at ``rung`` (first record wins); True when new."""
        ...

    def count(self, key: str, rung: int) -> int:
        """How many trials have a record at ``rung``."""
        ...

    def record_rank(
        self, key: str, trial_id: int, rung: int, values: Sequence[float]
    ) -> tuple[bool, int, int]:
        """:meth:`record`, then :meth:`count` and :meth:`dominating` of ``values`` there,
        in one call (one round trip for Redis): ``(new, count, dominating)``."""
        ...

    def dominating(self, key: str, rung: int, values: Sequence[float]) -> int:
        """How many records at ``rung`` dominate ``values``."""
        ...

    def trial(self, key: str, trial_id: int) -> dict[int, Values]:
        """The records of one trial under ``key``, by rung."""
        ...

    def best(self, key: str, rung: int, k: int) -> list[tuple[int, Values]]:
        """The ``k`` best records at ``rung`` as ``(trial_id, values)``, best first."""
        ...


def _clean(values: Sequence[float]) -> Values:
    out = tuple(float(v) for v in values)
    if not out:
        raise ValueError("a rung record needs at least one value")
    return tuple(v if math.isfinite(v) else math.inf for v in out)


def _encode(values: Values) -> str:
    return json.dumps([v if math.isfinite(v) else None for v in values])


def _decode(text: str) -> Values:
    return tuple(math.inf if v is None else float(v) for v in json.loads(text))


def best_by_rank(items: Sequence[tuple[int, Values]], k: int) -> list[tuple[int, Values]]:
    """The ``k`` items with the fewest dominating others (then by values, then id)."""
    import numpy as np

    if not items:
        return []
    arr = np.asarray([v for _, v in items], dtype=float)
    dom = np.all(arr[None, :, :] <= arr[:, None, :], axis=2) & np.any(
        arr[None, :, :] < arr[:, None, :], axis=2
    )
    ranks = dom.sum(axis=1)
    order = sorted(range(len(items)), key=lambda i: (int(ranks[i]), items[i][1], items[i][0]))
    return [items[i] for i in order[:k]]


def dominates_count(records: Sequence[Values], values: Sequence[float]) -> int:
    """How many of ``records`` dominate ``values`` (a plain scan, for several objectives)."""
    import numpy as np

    if not records:
        return 0
    arr = np.asarray(records, dtype=float)
    v = np.asarray(values, dtype=float)
    no_worse = np.all(arr <= v, axis=1)
    better = np.any(arr < v, axis=1)
    return int(np.count_nonzero(no_worse & better))


class _Rows:
    """One rung's values in a growing array, scanned vectorized for several objectives."""

    def __init__(self, k: int) -> None:
        import numpy as np

        self.data = np.empty((16, k))
        self.n = 0

    def append(self, values: Values) -> None:
        import numpy as np

        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.n] = values
        self.n += 1

    def dominating(self, values: Values) -> int:
        import numpy as np

        arr = self.data[: self.n]
        v = np.asarray(values, dtype=float)
        return int(np.count_nonzero(np.all(arr <= v, axis=1) & np.any(arr < v, axis=1)))

    def rows(self) -> list[Values]:
        return [tuple(float(x) for x in row) for row in self.data[: self.n]]


class MemoryRungs:
    """Rung records in this process (a sorted list per rung for one objective, a growing
    array for several)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sorted: dict[tuple[str, int], list[tuple[float, int]]] = {}
        self._records: dict[tuple[str, int], _Rows] = {}
        self._ids: dict[tuple[str, int], list[int]] = {}
        self._trials: dict[tuple[str, int], dict[int, Values]] = {}

    def record(self, key: str, trial_id: int, rung: int, values: Sequence[float]) -> bool:
        vals = _clean(values)
        with self._lock:
            mine = self._trials.setdefault((key, int(trial_id)), {})
            if int(rung) in mine:
                return False
            mine[int(rung)] = vals
            entry = (vals[0], int(trial_id))
            bisect.insort(self._sorted.setdefault((key, int(rung)), []), entry)
            rows = self._records.get((key, int(rung)))
            if rows is None:
                rows = self._records[(key, int(rung))] = _Rows(len(vals))
            rows.append(vals)
            self._ids.setdefault((key, int(rung)), []).append(int(trial_id))
            return True

    def count(self, key: str, rung: int) -> int:
        with self._lock:
            return len(self._sorted.get((key, int(rung)), ()))

    def dominating(self, key: str, rung: int, values: Sequence[float]) -> int:
        vals = _clean(values)
        with self._lock:
            if len(vals) == 1:
                entries = self._sorted.get((key, int(rung)), [])
                return bisect.bisect_left(entries, (vals[0], -math.inf))
            rows = self._records.get((key, int(rung)))
            return 0 if rows is None else rows.dominating(vals)

    def trial(self, key: str, trial_id: int) -> dict[int, Values]:
        with self._lock:
            return dict(self._trials.get((key, int(trial_id)), {}))

    def record_rank(
        self, key: str, trial_id: int, rung: int, values: Sequence[float]
    ) -> tuple[bool, int, int]:
        new = self.record(key, trial_id, rung, values)
        return new, self.count(key, rung), self.dominating(key, rung, values)

    def best(self, key: str, rung: int, k: int) -> list[tuple[int, Values]]:
        with self._lock:
            rows = self._records.get((key, int(rung)))
            if rows is None:
                return []
            if rows.data.shape[1] == 1:
                top = self._sorted[(key, int(rung))][: max(int(k), 0)]
                return [(t, (v,)) for v, t in top]
            items = list(zip(self._ids[(key, int(rung))], rows.rows(), strict=True))
        return best_by_rank(items, k)

    def record_many(self, records: Iterable[tuple[str, int, int, Sequence[float]]]) -> None:
        """Add many ``(key, trial_id, rung, values)`` records."""
        for key, trial_id, rung, values in records:
            self.record(key, trial_id, rung, values)

    def items(self) -> Iterator[tuple[str, int, int, Values]]:
        """Every record as ``(key, trial_id, rung, values)`` (to copy into another store)."""
        with self._lock:
            snapshot = [(k, t, dict(m)) for (k, t), m in self._trials.items()]
        for key, trial_id, mine in snapshot:
            for rung, values in mine.items():
                yield key, trial_id, rung, values


_SCHEMA = """
CREATE TABLE IF NOT EXISTS stopper_rungs (
    key TEXT NOT NULL, rung INTEGER NOT NULL, trial INTEGER NOT NULL,
    v0 REAL NOT NULL, vals TEXT NOT NULL, PRIMARY KEY (key, trial, rung)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stopper_rungs_order ON stopper_rungs (key, rung, v0);
CREATE TABLE IF NOT EXISTS stopper_rung_sizes (
    key TEXT NOT NULL, rung INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, rung)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS stopper_rungs_size AFTER INSERT ON stopper_rungs BEGIN
    INSERT INTO stopper_rung_sizes (key, rung, n) VALUES (NEW.key, NEW.rung, 1)
    ON CONFLICT (key, rung) DO UPDATE SET n = n + 1;
END;
"""


class SQLiteRungs:
    """Rung records in tables of a SQLite file (the run's journal), shared by processes.

    Args:
        path: the journal file or run directory (as for
            :class:`~hyperhive.storage.SQLiteStore`), or the store itself. The tables
            ``stopper_rungs`` live beside the journal's own and are opened through
            this object's connections (one per thread, re-opened after ``fork``).
        timeout: seconds a writer waits for the lock.
    """

    def __init__(self, path: str | os.PathLike[str] | Any, *, timeout: float = 60.0) -> None:
        from hyperhive.storage.sqlite import SQLiteStore, resolve_journal_path

        target = path.path if isinstance(path, SQLiteStore) else resolve_journal_path(path)
        self._path = Path(target)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._timeout = float(timeout)
        self._local = threading.local()
        self._pid = os.getpid()
        conn = self._conn()
        conn.executescript(_SCHEMA)

    @property
    def path(self) -> Path:
        """The SQLite file holding the tables."""
        return self._path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return SQLiteRungs, (str(self._path),)

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            self._local, self._pid = threading.local(), os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                str(self._path), timeout=self._timeout, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def record(self, key: str, trial_id: int, rung: int, values: Sequence[float]) -> bool:
        vals = _clean(values)
        cur = self._conn().execute(
            "INSERT OR IGNORE INTO stopper_rungs (key, rung, trial, v0, vals) "
            "VALUES (?, ?, ?, ?, ?)",
            (key, int(rung), int(trial_id), vals[0] if math.isfinite(vals[0]) else 1e308,
             _encode(vals)),
        )  # fmt: skip
        return cur.rowcount == 1

    def record_many(self, records: Iterable[tuple[str, int, int, Sequence[float]]]) -> None:
        """Add many ``(key, trial_id, rung, values)`` records in one transaction."""
        rows = []
        for key, trial_id, rung, values in records:
            vals = _clean(values)
            v0 = vals[0] if math.isfinite(vals[0]) else 1e308
            rows.append((key, int(rung), int(trial_id), v0, _encode(vals)))
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR IGNORE INTO stopper_rungs (key, rung, trial, v0, vals) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def count(self, key: str, rung: int) -> int:
        row = (
            self._conn()
            .execute(
                "SELECT n FROM stopper_rung_sizes WHERE key = ? AND rung = ?", (key, int(rung))
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def dominating(self, key: str, rung: int, values: Sequence[float]) -> int:
        vals = _clean(values)
        conn = self._conn()
        if len(vals) == 1:
            v0 = vals[0] if math.isfinite(vals[0]) else 1e308
            row = conn.execute(
                "SELECT COUNT(*) FROM stopper_rungs WHERE key = ? AND rung = ? AND v0 < ?",
                (key, int(rung), v0),
            ).fetchone()
            return int(row[0])
        rows = conn.execute(
            "SELECT vals FROM stopper_rungs WHERE key = ? AND rung = ?", (key, int(rung))
        ).fetchall()
        return dominates_count([_decode(r[0]) for r in rows], vals)

    def record_rank(
        self, key: str, trial_id: int, rung: int, values: Sequence[float]
    ) -> tuple[bool, int, int]:
        new = self.record(key, trial_id, rung, values)
        return new, self.count(key, rung), self.dominating(key, rung, values)

    def best(self, key: str, rung: int, k: int) -> list[tuple[int, Values]]:
        conn = self._conn()
        first = conn.execute(
            "SELECT vals FROM stopper_rungs WHERE key = ? AND rung = ? LIMIT 1", (key, int(rung))
        ).fetchone()
        if first is None or len(_decode(first[0])) == 1:
            rows = conn.execute(
                "SELECT trial, vals FROM stopper_rungs WHERE key = ? AND rung = ? "
                "ORDER BY v0, trial LIMIT ?",
                (key, int(rung), max(int(k), 0)),
            ).fetchall()
            return [(int(t), _decode(v)) for t, v in rows]
        rows = conn.execute(
            "SELECT trial, vals FROM stopper_rungs WHERE key = ? AND rung = ?", (key, int(rung))
        ).fetchall()
        return best_by_rank([(int(t), _decode(v)) for t, v in rows], k)

    def trial(self, key: str, trial_id: int) -> dict[int, Values]:
        rows = (
            self._conn()
            .execute(
                "SELECT rung, vals FROM stopper_rungs WHERE key = ? AND trial = ?",
                (key, int(trial_id)),
            )
            .fetchall()
        )
        return {int(r): _decode(v) for r, v in rows}


def rungs_for(store: Any) -> RungStore:
    """The rung store that shares what ``store`` (a journal store) shares.

    A :class:`~hyperhive.storage.SQLiteStore` gives :class:`SQLiteRungs` on its file, a
    :class:`~hyperhive.storage.redis.RedisStore` gives
    :class:`~hyperhive.storage.redis_rungs.RedisRungs` on its run; anything else
    (a memory store, None) gives :class:`MemoryRungs`.
    """
    from hyperhive.storage.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        return SQLiteRungs(store)
    if type(store).__name__ == "RedisStore":
        from hyperhive.storage.redis_rungs import RedisRungs

        return RedisRungs(store)
    return MemoryRungs()
