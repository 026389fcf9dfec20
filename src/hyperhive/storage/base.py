"""The store contract: an append-only journal of JSON trial events."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from hyperhive.trial import Trial, replay


class Store(abc.ABC):
    """An append-only journal of trial events, the source of truth for results.

    Records are JSON objects (never pickle). ``append`` is atomic and durable: a
    crash at any instant leaves either none or all of a batch. Several processes
    may append at once; trial ids handed out by ``append`` are unique across them.

    Subclasses declare which parts of the store contract suite apply to them in
    ``capabilities`` (``"multiprocess"``: several processes may share it;
    ``"durable"``: it survives the death of the process that wrote it;
    ``"torn_records"``: a record that fails to parse can exist and must be skipped).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append events atomically, in order.

        A ``submit`` event whose ``trial`` is None is given a fresh trial id, unique in
        this store across all processes. Returns the trial id of every event, in order.
        """

    @abc.abstractmethod
    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` for every event with sequence number above ``after``.

        Sequence numbers increase with commit order. A record whose JSON cannot be
        parsed is skipped with a warning.
        """

    @abc.abstractmethod
    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent)."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` (replacing any earlier one)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and files."""

    def trials(self) -> dict[int, Trial]:
        """Every trial rebuilt from the journal, keyed by id."""
        return replay(ev for _, ev in self.events())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
