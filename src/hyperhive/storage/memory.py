"""An in-memory store: one process, gone when the process ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from hyperhive.storage.base import Store, prepare_events
from hyperhive.storage.codec import dumps, loads

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """A thread-safe journal held in memory.

    Events are kept as JSON text, so what is read back is exactly what a durable
    store would return (tuples become lists, NaN becomes None). It cannot be shared
    between processes and does not survive its process (no capabilities).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[str] = []  # seq = index + 1
        self._meta: dict[str, str] = {}
        self._next_id = 0

    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append events atomically (see :meth:`Store.append`)."""
        prepared = prepare_events(events)
        encoded = [dumps(ev) if ev["trial"] is not None else None for ev in prepared]
        with self._lock:
            next_id = self._next_id
            ids: list[int] = []
            for i, ev in enumerate(prepared):
                tid = ev["trial"]
                if tid is None:
                    tid = next_id
                    encoded[i] = dumps({**ev, "trial": tid})
                ids.append(tid)
                next_id = max(next_id, tid + 1)
            self._records.extend(encoded)  # type: ignore[arg-type]
            self._next_id = next_id
        return ids

    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` committed after ``after`` (a snapshot taken now)."""
        start = max(int(after), 0)
        with self._lock:
            snapshot = self._records[start:]
        for offset, text in enumerate(snapshot):
            yield start + offset + 1, loads(text)

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent)."""
        with self._lock:
            text = self._meta.get(key)
        return None if text is None else loads(text)

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        text = dumps(value)
        with self._lock:
            self._meta[key] = text

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self)} events)"
