"""Read-only access to a journal, for readers that must never disturb a running search.

A :class:`SQLiteReader` opens the journal with SQLite's ``mode=ro`` URI: it never
switches the journal mode, never creates tables, never begins a write transaction
and holds no lock between calls (each query is its own short read transaction, so a
writer in WAL mode is never blocked by it). :func:`open_reader` picks the right
reader for a run directory, a journal path, a ``sqlite://`` or ``redis://`` URL.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
import urllib.parse
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from hyperhive.errors import UsageError
from hyperhive.storage.base import Store, StoreWarning
from hyperhive.storage.codec import loads
from hyperhive.storage.sqlite import JOURNAL_NAME

__all__ = ["ReadOnlyStoreError", "SQLiteReader", "open_reader"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_CHUNK = 2000


class ReadOnlyStoreError(UsageError, PermissionError):
    """A write was attempted through a reader."""


class SQLiteReader(Store):
    """A journal file opened read-only (``file:...?mode=ro``).

    Reading methods (:meth:`events`, :meth:`get_meta`, :meth:`trials`,
    :meth:`last_seq`) give what :class:`~hyperhive.storage.SQLiteStore` gives;
    :meth:`append` and :meth:`set_meta` raise :class:`ReadOnlyStoreError`. Each
    thread gets its own connection (re-opened after ``fork``).

    Args:
        path: the journal file or the run directory holding ``journal.sqlite``.
        timeout: seconds a query waits while the file is briefly busy.

    Raises:
        FileNotFoundError: there is no journal at ``path``.
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"multiprocess", "durable"})

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        p = Path(path).expanduser()
        self._path = p / JOURNAL_NAME if p.is_dir() else p
        if not self._path.is_file():
            raise FileNotFoundError(f"no hyperhive journal at {str(self._path)!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self._timeout = float(timeout)
        self._closed = False
        self._pid = os.getpid()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise ValueError(f"{self!r} is closed")
        if os.getpid() != self._pid:  # forked: never touch the parent's connections
            self._pid, self._local, self._conns = os.getpid(), threading.local(), []
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            uri = "file:" + urllib.parse.quote(str(self._path.resolve())) + "?mode=ro"
            conn = sqlite3.connect(
                uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One short read transaction; retried while the file is busy, [] without tables."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                return self._conn().execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if "no such table" in msg:
                    return []
                if ("locked" not in msg and "busy" not in msg) or time.monotonic() > deadline:
                    raise
            time.sleep(0.01)

    def close(self) -> None:
        """Close this process's connections."""
        if self._closed:
            return
        self._closed = True
        if os.getpid() != self._pid:
            return
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Refused: a reader never writes."""
        raise ReadOnlyStoreError(f"{self!r} is read-only; append is refused")

    def set_meta(self, key: str, value: Any) -> None:
        """Refused: a reader never writes."""
        raise ReadOnlyStoreError(f"{self!r} is read-only; set_meta is refused")

    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` committed after ``after``, in chunks (no lock held between)."""
        last = int(after)
        while True:
            rows = self._query(
                "SELECT seq, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, _CHUNK)
            )
            try:  # one decode for the whole chunk (several times faster than one per row)
                decoded = loads("[" + ",".join(data for _, data in rows) + "]")
            except (ValueError, TypeError):
                decoded = None  # an unreadable record in this chunk: decode one by one
            for i, (seq, data) in enumerate(rows):
                last = seq
                if decoded is not None and len(decoded) == len(rows):
                    event = decoded[i]
                else:
                    try:
                        event = loads(data)
                    except (ValueError, TypeError) as exc:
                        warnings.warn(
                            f"{self._path}: skipping unreadable event #{seq} ({exc})",
                            StoreWarning,
                            stacklevel=2,
                        )
                        continue
                if isinstance(event, dict) and isinstance(event.get("kind"), str):
                    yield seq, event
            if len(rows) < _CHUNK:
                return

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent or unreadable)."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            return loads(rows[0][0])
        except (ValueError, TypeError):
            return None

    def last_seq(self) -> int:
        """The sequence number of the last committed event (0 when empty)."""
        rows = self._query("SELECT MAX(seq) FROM events")
        return int(rows[0][0] or 0) if rows else 0

    def __reduce__(self) -> Any:
        return _open_reader_file, (str(self._path), self._timeout)

    def __repr__(self) -> str:
        return f"SQLiteReader({str(self._path)!r})"


def _open_reader_file(path: str, timeout: float) -> SQLiteReader:
    return SQLiteReader(path, timeout=timeout)


def open_reader(url_or_path: str | os.PathLike[str] | Store, *, run: str | None = None) -> Store:
    """Open a store for reading only.

    Args:
        url_or_path: a run directory or journal file (opened as a
            :class:`SQLiteReader`), ``"sqlite:///path"``, a Redis URL (a
            :class:`~hyperhive.storage.redis.RedisStore`, whose reads take no lock),
            or a :class:`Store` (returned as is).
        run: for Redis, the run's name when the URL has no ``run`` parameter.

    Raises:
        FileNotFoundError: no journal at the path.
        ValueError: an unsupported URL scheme.
    """
    if isinstance(url_or_path, Store):
        return url_or_path
    text = os.fsdecode(os.fspath(url_or_path))
    match = _SCHEME.match(text)
    if match is None:
        return SQLiteReader(text)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = text[match.end() :]
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"SQLite URLs look like 'sqlite:///relative/path', got {text!r}")
        return SQLiteReader(rest[1:])
    if scheme in ("redis", "rediss"):
        from hyperhive.storage.redis import RedisStore, parse_redis_url

        return RedisStore(text, run=parse_redis_url(text)[1] or run)
    raise ValueError(
        f"unsupported store URL scheme {scheme!r} in {text!r}; "
        "use a run directory, a journal path, 'sqlite:///path' or 'redis://host:port/db'"
    )
