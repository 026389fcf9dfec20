"""A journal in one SQLite file, shared by threads and processes.

Durability:
    The database runs in WAL mode. With ``durability="normal"``
    (``synchronous=NORMAL``) a commit is written to the WAL file before
    :meth:`SQLiteStore.append` returns, so it survives SIGKILL or a crash of any
    process, the writer included; a power loss or kernel crash may drop the last
    commits (never corrupting the file). ``durability="full"``
    (``synchronous=FULL``) also fsyncs the WAL at every commit, so commits survive
    power loss, at a cost of one fsync per append.

Concurrency:
    Each thread uses its own connection, re-opened in a child after ``fork``.
    ``append`` is one ``BEGIN IMMEDIATE`` transaction; writers wait for each other
    (``busy_timeout``) and retry on "database is locked" until ``timeout``.
    SQLite locking needs a local file system: a journal on a network file system
    (NFS, Lustre, CIFS/SMB, sshfs, BeeGFS) is refused (see
    :func:`network_filesystem`); share a run across hosts with a Redis store.
"""

from __future__ import annotations

import os
import random
import re
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from hyperhive.storage import sqlite_claims
from hyperhive.storage.base import Store, StoreWarning, prepare_events
from hyperhive.storage.claims import adoption_events
from hyperhive.storage.codec import dumps, loads

__all__ = [
    "JOURNAL_NAME",
    "SCHEMA_VERSION",
    "SQLiteStore",
    "network_filesystem",
    "resolve_journal_path",
]

JOURNAL_NAME = "journal.sqlite"
"""The journal's file name inside a run directory."""

SCHEMA_VERSION = 1
"""Stored in ``PRAGMA user_version``; a newer journal is refused."""

_CHUNK = 2000
_T = TypeVar("_T")
# Connections inherited through fork are never used nor closed by the child
# (SQLite forbids carrying a connection across fork); they are parked here.
_FORKED_AWAY: list[sqlite3.Connection] = []


def resolve_journal_path(path: str | os.PathLike[str]) -> Path:
    """The journal file for ``path``.

    An existing folder, or a path without a suffix that does not exist yet, is a
    run directory and holds ``journal.sqlite``; anything else is the file itself.
    """
    p = Path(path).expanduser()
    if p.is_dir() or (not p.exists() and not p.suffix):
        return p / JOURNAL_NAME
    return p


NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "lustre", "cifs", "smb3", "smbfs", "fuse.sshfs", "sshfs", "beegfs"}
)
"""Mount types whose locking SQLite cannot trust (GPFS and local file systems are fine)."""


def network_filesystem(path: str | os.PathLike[str], mounts: str | None = None) -> str | None:
    """The type of the network file system holding ``path``, or None when it is safe.

    Args:
        path: a file or folder (need not exist yet).
        mounts: the text of a mounts table (default: ``/proc/mounts``; None is
            returned where there is none).
    """
    if mounts is None:
        try:
            with open("/proc/mounts", encoding="utf-8", errors="replace") as f:
                mounts = f.read()
        except OSError:
            return None
    target = os.path.realpath(os.path.abspath(os.fspath(path)))
    best, best_type = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type if best_type in NETWORK_FILESYSTEMS else None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def _close_quietly(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


def _open_sqlite_store(path: str, durability: str, timeout: float) -> SQLiteStore:
    return SQLiteStore(path, durability, timeout=timeout)


class SQLiteStore(Store):
    """An append-only event journal in one SQLite file (WAL mode).

    Args:
        path: the journal file, or a run directory to hold ``journal.sqlite``
            (see :func:`resolve_journal_path`). Missing folders are created.
        durability: ``"normal"`` (safe against any process crash) or ``"full"``
            (also safe against power loss; slower). See the module docstring.
        timeout: seconds a writer waits for the lock before giving up.

    Pickling a store gives a handle to the same file (for worker processes).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"multiprocess", "durable", "torn_records"})

    def __init__(
        self, path: str | os.PathLike[str], durability: str = "normal", *, timeout: float = 60.0
    ) -> None:
        if durability not in ("normal", "full"):
            raise ValueError(f"durability must be 'normal' or 'full', got {durability!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self._path = resolve_journal_path(path)
        fs_type = network_filesystem(self._path)
        if fs_type is not None and not os.environ.get("HYPERHIVE_ALLOW_NETWORK_FS"):
            raise OSError(
                f"{self._path} is on a {fs_type} network file system, where SQLite's locking "
                "is unsafe; share a run across hosts with a Redis store "
                "(store='redis://host:6379/0', pip install 'hyperhive[redis]'), or keep the "
                "journal on a local disk (HYPERHIVE_ALLOW_NETWORK_FS=1 skips this check)"
            )
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._durability = durability
        self._timeout = float(timeout)
        self._closed = False
        self._pid = os.getpid()
        self._local = threading.local()
        self._conns: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._conns_lock = threading.Lock()
        try:
            self._transact(self._init_schema)
        except BaseException:
            self.close()
            raise

    # -- connections ---------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    @property
    def durability(self) -> str:
        """``"normal"`` or ``"full"``."""
        return self._durability

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            str(self._path), timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            mode = self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            if str(mode).lower() != "wal":
                raise OSError(
                    f"cannot put {self._path} in WAL mode (got journal_mode={mode!r}); "
                    "the journal needs a local file system"
                )
            sync = "FULL" if self._durability == "full" else "NORMAL"
            conn.execute(f"PRAGMA synchronous = {sync}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise ValueError(f"{self!r} is closed")
        pid = os.getpid()
        if pid != self._pid:  # forked: drop, but never touch, the parent's connections
            _FORKED_AWAY.extend(c for _, c in self._conns)
            self._conns = []
            self._conns_lock = threading.Lock()
            self._local = threading.local()
            self._pid = pid
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            me = threading.current_thread()
            with self._conns_lock:
                # Close the connections of threads that have ended (no fd leak when
                # short-lived threads append), then register this one.
                alive = []
                for owner, c in self._conns:
                    if owner.is_alive():
                        alive.append((owner, c))
                    else:
                        _close_quietly(c)
                alive.append((me, conn))
                self._conns = alive
        return conn

    def close(self) -> None:
        """Close every connection this process opened; the store is unusable after."""
        if self._closed:
            return
        self._closed = True
        if os.getpid() != self._pid:
            return
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for _, conn in conns:
            _close_quietly(conn)
        self._local = threading.local()

    def __reduce__(self) -> tuple[Callable[..., SQLiteStore], tuple[str, str, float]]:
        return _open_sqlite_store, (str(self._path), self._durability, self._timeout)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self._path)!r}, durability={self._durability!r})"

    # -- transactions ----------------------------------------------------------------
    def _retry(self, fn: Callable[[], _T]) -> _T:
        deadline = time.monotonic() + self._timeout
        delay = 0.001
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * (1.0 + random.random()))
            delay = min(delay * 2.0, 0.1)

    def _transact(self, fn: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``fn(conn)`` in one write transaction, retrying while the file is locked."""
        conn = self._conn()

        def attempt() -> _T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                raise
            return result

        return self._retry(attempt)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._conn()
        return self._retry(lambda: conn.execute(sql, params).fetchall())

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"{self._path} was written by a newer hyperhive (journal schema {version}, "
                f"this version reads up to {SCHEMA_VERSION})"
            )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS events ("
            "seq INTEGER PRIMARY KEY AUTOINCREMENT, trial INTEGER, "
            "kind TEXT NOT NULL, data TEXT NOT NULL)"
        )
        conn.execute("CREATE INDEX IF NOT EXISTS events_trial ON events (trial)")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if version < SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- the Store API -----------------------------------------------------------------
    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append events in one transaction (see :meth:`Store.append`)."""
        prepared = prepare_events(events)
        if not prepared:
            return []
        # Encode outside the write lock; only fresh submits are encoded inside it.
        encoded = [dumps(ev) if ev["trial"] is not None else None for ev in prepared]
        fresh = any(text is None for text in encoded)

        def write(conn: sqlite3.Connection) -> list[int]:
            next_id = 0
            if fresh:
                (top,) = conn.execute("SELECT MAX(trial) FROM events").fetchone()
                next_id = 0 if top is None else int(top) + 1
            ids: list[int] = []
            rows: list[tuple[int, str, str]] = []
            for ev, text in zip(prepared, encoded, strict=True):
                tid = ev["trial"]
                if tid is None:
                    tid = next_id
                    text = dumps({**ev, "trial": tid})
                next_id = max(next_id, tid + 1)
                ids.append(tid)
                rows.append((tid, ev["kind"], text))  # type: ignore[arg-type]
            if len(rows) == 1:
                conn.execute("INSERT INTO events (trial, kind, data) VALUES (?, ?, ?)", rows[0])
            else:
                conn.executemany("INSERT INTO events (trial, kind, data) VALUES (?, ?, ?)", rows)
            return ids

        return self._transact(write)

    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` committed after ``after``, in chunks (no long read lock)."""
        last = int(after)
        while True:
            rows = self._query(
                "SELECT seq, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, _CHUNK)
            )
            for seq, data in rows:
                last = seq
                event = self._decode(seq, data)
                if event is not None:
                    yield seq, event
            if len(rows) < _CHUNK:
                return

    def _decode(self, seq: int, data: Any) -> dict[str, Any] | None:
        try:
            event = loads(data)
        except (ValueError, TypeError) as exc:
            warnings.warn(
                f"{self._path}: skipping unreadable event #{seq} ({exc})",
                StoreWarning,
                stacklevel=3,
            )
            return None
        if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
            warnings.warn(
                f"{self._path}: skipping malformed event #{seq} (not an event object)",
                StoreWarning,
                stacklevel=3,
            )
            return None
        return event

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent or unreadable, with a warning)."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            return loads(rows[0][0])
        except (ValueError, TypeError) as exc:
            warnings.warn(
                f"{self._path}: unreadable meta value {key!r} ({exc})", StoreWarning, stacklevel=2
            )
            return None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` (one transaction)."""
        if not isinstance(key, str):
            raise TypeError(f"meta keys are strings, got {type(key).__name__}")
        text = dumps(value)
        self._transact(
            lambda conn: conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, text),
            )
        )

    def last_seq(self) -> int:
        """The sequence number of the last committed event (0 when empty)."""
        rows = self._query("SELECT MAX(seq) FROM events")
        return int(rows[0][0] or 0)

    # -- decentralized search: claims and leases (see hyperhive.storage.claims) ---------
    def claim(
        self,
        submit: Mapping[str, Any],
        budget: int | None,
        *,
        adopt: int | None = None,
        lost: Mapping[str, Any] | None = None,
    ) -> int | None:
        """Create a trial only while the budget allows it, in one transaction
        (see :meth:`hyperhive.storage.claims.ClaimStore.claim`)."""
        ev, end = adoption_events(submit, adopt, lost)
        now = time.time()
        return self._transact(lambda conn: sqlite_claims.claim(conn, ev, budget, adopt, end, now))

    def heartbeat(self, peer: str, lease: float, info: Mapping[str, Any] | None = None) -> None:
        """Renew ``peer``'s lease: a ``peer:<id>`` meta record expiring in ``lease`` s."""
        now = time.time()
        record = {**(info or {}), "peer": peer, "seen": now, "lease": lease, "expires": now + lease}
        self.set_meta(f"peer:{peer}", record)

    def leave(self, peer: str) -> None:
        """End ``peer``'s lease now (its open trials become reclaimable at once)."""
        record = self.get_meta(f"peer:{peer}") or {}
        self.set_meta(f"peer:{peer}", {**record, "peer": peer, "expires": 0.0})

    def live_peers(self, peers: Sequence[str]) -> set[str]:
        """The peers among ``peers`` whose lease has not expired."""
        now, conn = time.time(), self._conn()
        return self._retry(lambda: {p for p in peers if sqlite_claims.alive(conn, p, now)})

    def peers(self) -> dict[str, dict[str, Any]]:
        """Every peer that joined: its last heartbeat record and whether it is alive."""
        rows = self._query("SELECT key, value FROM meta WHERE key LIKE 'peer:%'")
        return sqlite_claims.peer_records(rows, time.time())

    def setdefault_meta(self, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` unless a value is there; return the stored one."""
        text = dumps(value)
        self._transact(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, text)
            )
        )
        return self.get_meta(key)
