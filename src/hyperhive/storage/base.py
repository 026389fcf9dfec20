"""The store contract: an append-only journal of JSON trial events."""

from __future__ import annotations

import abc
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from hyperhive.trial import Trial, replay

__all__ = ["CAPABILITIES", "Store", "StoreWarning", "prepare_events"]

CAPABILITIES = frozenset({"multiprocess", "durable", "torn_records"})
"""Every capability a store may declare (see :attr:`Store.capabilities`)."""


class StoreWarning(UserWarning):
    """Something in a store was unreadable and skipped (a torn or corrupt record)."""


class Store(abc.ABC):
    """An append-only journal of trial events, the source of truth for results.

    Records are JSON objects (never pickle). ``append`` is atomic: a crash at any
    instant leaves either none or all of a batch. Several processes may append at
    once (when the store is ``"multiprocess"``); trial ids handed out by ``append``
    are unique across them.

    Subclasses declare which parts of the store contract suite
    (:mod:`hyperhive.testing.store_contract`) apply to them in ``capabilities``:
    ``"multiprocess"`` (several processes may share it), ``"durable"`` (what
    ``append`` committed survives the death of the process that wrote it) and
    ``"torn_records"`` (a record that fails to parse can exist and is skipped).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append events atomically, in order.

        A ``submit`` event whose ``trial`` is None is given a fresh trial id, unique
        in this store across all processes (ids start at 0 and grow; an explicit id
        in a batch makes later fresh ids larger than it). The stored event carries
        the id; the caller's mappings are not modified.

        Args:
            events: JSON objects, each with a string ``kind`` and an integer
                ``trial`` (None only for ``submit``). Non-finite floats are stored
                as null; numpy scalars and arrays as plain numbers and lists.

        Returns:
            The trial id of every event, in order.

        Raises:
            ValueError: an event lacks a ``kind``, or has no trial id and is not a
                ``submit``; nothing of the batch is stored.
            TypeError: an event holds a value that is not JSON; nothing is stored.
        """

    @abc.abstractmethod
    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` for every event with sequence number above ``after``.

        Sequence numbers start at 1 and increase with commit order, so passing the
        last ``seq`` seen reads exactly what was committed since. A record whose
        JSON cannot be parsed is skipped with a :class:`StoreWarning`.
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


def prepare_events(events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate events for :meth:`Store.append` and return shallow copies.

    Trial ids are normalized to ``int`` (numpy integers accepted); ``trial`` is
    None only for ``submit`` events, which the store then numbers.

    Raises:
        ValueError: a malformed event (see :meth:`Store.append`).
        TypeError: an event is not a mapping or its trial id is not an integer.
    """
    if isinstance(events, Mapping):
        raise TypeError("Store.append takes a sequence of events, not a single event")
    out: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise TypeError(f"event {i} is a {type(event).__name__}, expected a mapping")
        ev = dict(event)
        kind = ev.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"event {i} has no 'kind' (got {kind!r})")
        tid = ev.get("trial")
        if tid is None:
            if kind != "submit":
                raise ValueError(f"event {i} ({kind!r}) has no trial id; only submit may omit it")
        else:
            if isinstance(tid, bool):
                raise TypeError(f"event {i} has a boolean trial id {tid!r}")
            try:
                tid = operator.index(tid)
            except TypeError:
                raise TypeError(f"event {i} has a non-integer trial id {tid!r}") from None
            if tid < 0:
                raise ValueError(f"event {i} has a negative trial id {tid}")
        ev["trial"] = tid
        out.append(ev)
    return out
