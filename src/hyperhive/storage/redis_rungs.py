"""Rung records on a Redis server, beside a run's journal (see :mod:`hyperhive.storage.rungs`).

Layout (under the run's prefix ``hh:{<run>}:``, so a run stays in one hash slot):

``rung:<key>:<rung>``
    a SORTED SET ``trial -> first loss`` (the ordered index one objective needs);
``rungv:<key>:<rung>``
    a HASH ``trial -> JSON losses`` (every objective, read for several objectives);
``rungt:<key>:<trial>``
    a HASH ``rung -> JSON losses``: one trial's own records.

A record is one Lua script (the first record of a trial at a rung wins, and the three
keys change together); a one-objective decision is ``ZCOUNT`` (O(log n)).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from hyperhive.storage.rungs import (
    Values,
    _clean,
    _decode,
    _encode,
    best_by_rank,
    dominates_count,
)

__all__ = ["RECORD", "RECORD_RANK", "RedisRungs"]

# KEYS: rungt rung rungv. ARGV: rung, trial, score, json.
RECORD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[4]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
return 1
"""

# KEYS: rungt rung rungv. ARGV: rung, trial, score, json, exclusive score bound "(<score>".
RECORD_RANK = """
local new = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[4])
if new == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[4])
end
return {new, redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], '-inf', ARGV[5])}
"""


def _score(v: float) -> str:
    return "inf" if not math.isfinite(v) else repr(float(v))


class RedisRungs:
    """Rung records of one run on a Redis server, shared by peers on every host.

    Args:
        store: the run's :class:`~hyperhive.storage.redis.RedisStore` (its connection
            and run prefix are reused), or a ``redis://`` URL.
        run: with a URL, the run's name (as for ``RedisStore``).
    """

    def __init__(self, store: Any, *, run: str | None = None) -> None:
        if isinstance(store, str):
            from hyperhive.storage.redis import RedisStore

            store = RedisStore(store, run=run)
        self._store = store
        self._r = store.client
        self._prefix = store.prefix
        self._record = self._r.register_script(RECORD)
        self._record_rank = self._r.register_script(RECORD_RANK)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return RedisRungs, (self._store,)

    def _k(self, kind: str, key: str, n: int) -> str:
        return f"{self._prefix}{kind}:{key}:{int(n)}"

    def record(self, key: str, trial_id: int, rung: int, values: Sequence[float]) -> bool:
        vals = _clean(values)
        keys = [
            self._k("rungt", key, trial_id),
            self._k("rung", key, rung),
            self._k("rungv", key, rung),
        ]
        args = [int(rung), int(trial_id), _score(vals[0]), _encode(vals)]
        return bool(self._record(keys=keys, args=args))

    def record_many(
        self, records: Iterable[tuple[str, int, int, Sequence[float]]], *, batch: int = 1000
    ) -> None:
        """Add many ``(key, trial_id, rung, values)`` records, ``batch`` per round trip."""
        pipe = self._r.pipeline(transaction=False)
        queued = 0
        for key, trial_id, rung, values in records:
            vals = _clean(values)
            keys = [
                self._k("rungt", key, trial_id),
                self._k("rung", key, rung),
                self._k("rungv", key, rung),
            ]
            args = [int(rung), int(trial_id), _score(vals[0]), _encode(vals)]
            self._record(keys=keys, args=args, client=pipe)
            queued += 1
            if queued == batch:
                pipe.execute()
                queued = 0
        if queued:
            pipe.execute()

    def record_rank(
        self, key: str, trial_id: int, rung: int, values: Sequence[float]
    ) -> tuple[bool, int, int]:
        vals = _clean(values)
        keys = [
            self._k("rungt", key, trial_id),
            self._k("rung", key, rung),
            self._k("rungv", key, rung),
        ]
        score = _score(vals[0])
        args = [int(rung), int(trial_id), score, _encode(vals), "(" + score]
        new, n, dom = self._record_rank(keys=keys, args=args)
        if len(vals) > 1:
            dom = self.dominating(key, rung, vals)
        return bool(new), int(n), int(dom)

    def count(self, key: str, rung: int) -> int:
        return int(self._r.zcard(self._k("rung", key, rung)))

    def dominating(self, key: str, rung: int, values: Sequence[float]) -> int:
        vals = _clean(values)
        if len(vals) == 1:
            return int(self._r.zcount(self._k("rung", key, rung), "-inf", "(" + _score(vals[0])))
        texts = self._r.hvals(self._k("rungv", key, rung))
        return dominates_count([_decode(t) for t in texts], vals)

    def trial(self, key: str, trial_id: int) -> dict[int, Values]:
        raw = self._r.hgetall(self._k("rungt", key, trial_id))
        return {int(r): _decode(v) for r, v in raw.items()}

    def best(self, key: str, rung: int, k: int) -> list[tuple[int, Values]]:
        if k <= 0:
            return []
        ids = self._r.zrange(self._k("rung", key, rung), 0, 0)
        if not ids:
            return []
        first = _decode(self._r.hget(self._k("rungv", key, rung), ids[0]))
        if len(first) == 1:
            # ZRANGE orders ties by member (a string); sort ties by id as the others do.
            top = self._r.zrange(self._k("rung", key, rung), 0, int(k) - 1, withscores=True)
            if len(top) == k:
                last = top[-1][1]
                ties = self._r.zrangebyscore(self._k("rung", key, rung), last, last)
                kept = [(int(t), float(s)) for t, s in top if s < last]
                kept += sorted((int(t), last) for t in ties)
                return [(t, (s,)) for t, s in kept[: int(k)]]
            return [(int(t), (float(s),)) for t, s in top]
        raw = self._r.hgetall(self._k("rungv", key, rung))
        return best_by_rank([(int(t), _decode(v)) for t, v in raw.items()], k)
