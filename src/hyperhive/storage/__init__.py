"""Storage: the event journal (memory or SQLite), run directories, the one-driver lock and
the trial table."""

from __future__ import annotations

import os
import re

from hyperhive.storage.atomic import atomic_write_bytes, atomic_write_text
from hyperhive.storage.base import CAPABILITIES, Store, StoreWarning
from hyperhive.storage.claims import ClaimStore, LocalClaims, claims_for
from hyperhive.storage.frame import trials_frame
from hyperhive.storage.lock import DriverLock, RunLockedError
from hyperhive.storage.memory import MemoryStore
from hyperhive.storage.readonly import ReadOnlyStoreError, SQLiteReader, open_reader
from hyperhive.storage.rundir import RunDir, environment_versions
from hyperhive.storage.sqlite import SQLiteStore

__all__ = [
    "CAPABILITIES",
    "ClaimStore",
    "DriverLock",
    "LocalClaims",
    "MemoryStore",
    "ReadOnlyStoreError",
    "RunDir",
    "RunLockedError",
    "SQLiteReader",
    "SQLiteStore",
    "Store",
    "StoreWarning",
    "atomic_write_bytes",
    "atomic_write_text",
    "claims_for",
    "environment_versions",
    "open_reader",
    "open_store",
    "trials_frame",
]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(
    url_or_path: str | os.PathLike[str] | Store | None = None,
    *,
    durability: str = "normal",
    run: str | None = None,
) -> Store:
    """Open a store from a URL or a path.

    Args:
        url_or_path: None, ``"memory"`` or ``"memory://"``: a :class:`MemoryStore`;
            ``"sqlite:///relative/file.sqlite"`` or ``"sqlite:////absolute/file"``
            (SQLAlchemy style) or a plain path: a :class:`SQLiteStore` (a folder,
            or a path without suffix, holds ``journal.sqlite``); a :class:`Store`
            is returned as is; ``"redis://[:password@]host[:port][/db][?run=NAME]"``
            or ``"rediss://..."`` (TLS): a :class:`~hyperhive.storage.redis.RedisStore`
            (the ``redis`` extra).
        durability: for SQLite, ``"normal"`` or ``"full"``.
        run: for Redis, the run's name on the server when the URL has no ``run``
            parameter (default ``"default"``).

    Raises:
        ValueError: an unsupported scheme or an empty path.
        ImportError: a Redis URL without redis-py installed.
    """
    if url_or_path is None or isinstance(url_or_path, Store):
        return url_or_path if url_or_path is not None else MemoryStore()
    text = os.fspath(url_or_path)
    if not isinstance(text, str):
        text = os.fsdecode(text)
    if text in ("memory", "memory://", ":memory:"):
        return MemoryStore()
    match = _SCHEME.match(text)
    if match is None:
        if not text.strip():
            raise ValueError("open_store got an empty path")
        return SQLiteStore(text, durability)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = text[match.end() :]
        if not rest.startswith("/") or rest == "/":
            raise ValueError(
                f"SQLite URLs look like 'sqlite:///relative/path' or 'sqlite:////abs/path', "
                f"got {text!r}"
            )
        return SQLiteStore(rest[1:], durability)
    if scheme in ("redis", "rediss"):
        from hyperhive.storage.redis import RedisStore, parse_redis_url

        return RedisStore(text, run=parse_redis_url(text)[1] or run)
    raise ValueError(
        f"unsupported store URL scheme {scheme!r} in {text!r}; "
        "use None or 'memory', a path, 'sqlite:///path' or 'redis://host:port/db'"
    )
