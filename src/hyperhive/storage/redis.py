"""A journal on a plain Redis server (no modules), shared by processes on many hosts.

Layout (every key of a run starts with ``hh:{<run>}:``; the braces keep a run in
one hash slot):

``log``
    a LIST of JSON events; an event's sequence number is its index + 1.
``next``
    the next fresh trial id.
``meta``
    a HASH of JSON values (:meth:`RedisStore.get_meta`).
``ids``
    a bitmap of the trial ids submitted (a second ``submit`` of an id is ignored).
``open``
    a HASH ``trial -> peer`` of the trials submitted and not ended yet.
``counted``
    how many trials ended first with a status counted toward ``max_evals``.
``orphans``
    a SET of trials whose first ``end`` was ``lost`` and that no retry adopted yet.
``peer:<id>``
    a peer's lease: a key that expires unless the peer renews it (a heartbeat).
``peers``
    a HASH ``peer -> JSON`` of every peer that joined (host, pid, last heartbeat).
``tok:<token>``
    the answer to one append or claim, kept a few minutes (longer than a call and its
    retries can take) so that a retried call is not
    applied twice.

Every write is one Lua script, so a batch of events, the trial ids it takes and
the bookkeeping above change together or not at all; the scripts mirror
:func:`hyperhive.trial.apply_event` (the first ``end`` of a trial wins).

Durability:
    What :meth:`RedisStore.append` returned survives the death of any client. It
    survives a restart of the server only with persistence turned on: run
    production servers with ``appendonly yes`` (``appendfsync everysec`` may lose
    the last second on a power loss, ``appendfsync always`` nothing) and a
    password (``requirepass``); use ``rediss://`` URLs for TLS.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import urllib.parse
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from hyperhive.storage.base import Store, StoreWarning, prepare_events
from hyperhive.storage.codec import dumps, loads
from hyperhive.storage.redis_scripts import APPEND, CLAIM
from hyperhive.trial import TrialStatus

__all__ = ["DEFAULT_RUN", "RedisStore", "parse_redis_url"]

DEFAULT_RUN = "default"
"""The run name used when a URL names none."""

_RUN_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
_CHUNK = 2000
_COUNTED = frozenset(s.value for s in TrialStatus if s.counted)


def parse_redis_url(url: str) -> tuple[str, str | None]:
    """Split hyperhive's own ``run`` query parameter off a Redis URL.

    Returns:
        The URL without ``run`` (what redis-py is given) and the run name (or None).
    """
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    runs = [v for k, v in query if k == "run"]
    rest = urllib.parse.urlencode([(k, v) for k, v in query if k != "run"])
    return urllib.parse.urlunsplit(parts._replace(query=rest)), (runs[-1] if runs else None)


def _check_run(run: str) -> str:
    if not isinstance(run, str) or not _RUN_NAME.match(run):
        raise ValueError(f"a Redis run name is 1-200 letters, digits, '_', '-' or '.', got {run!r}")
    return run


def _open_redis_store(url: str, run: str, options: dict[str, Any]) -> RedisStore:
    return RedisStore(url, run=run, **options)


def _redact(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class RedisStore(Store):
    """An append-only event journal on a Redis server.

    Args:
        url: ``redis://[[user]:password@]host[:port][/db][?run=NAME&...]`` or
            ``rediss://...`` for TLS (redis-py's query options such as
            ``ssl_ca_certs`` or ``ssl_cert_reqs=none`` pass through).
        run: the run's name, its namespace on the server (default: the URL's
            ``run`` parameter, else ``"default"``).
        timeout: seconds to wait for the server per call (socket timeout).
        retries: how often a call that failed on a connection error is tried
            again; appends carry a token, so a retry is never applied twice.

    Pickling a store gives a handle to the same run (for worker processes).

    Raises:
        ImportError: redis-py is missing (``pip install 'hyperhive[redis]'``).
    """

    capabilities: ClassVar[frozenset[str]] = frozenset({"multiprocess", "durable", "torn_records"})

    def __init__(
        self, url: str, *, run: str | None = None, timeout: float = 30.0, retries: int = 5
    ) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the Redis store needs redis-py: pip install 'hyperhive[redis]'"
            ) from exc
        clean, url_run = parse_redis_url(url)
        self._url = url
        self._run = _check_run(run if run is not None else (url_run or DEFAULT_RUN))
        self._options = {"timeout": float(timeout), "retries": int(retries)}
        self._retries = max(int(retries), 0)
        # An answer is kept longer than a call and all its retries can take.
        self._token_ttl = int(max(120.0, timeout * (self._retries + 1) + 60.0))
        self._conn_errors = (redis.ConnectionError, redis.TimeoutError)
        self._r = redis.Redis.from_url(
            clean,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self.prefix = f"hh:{{{self._run}}}:"
        p = self.prefix
        self._keys = [f"{p}{k}" for k in ("log", "next", "open", "counted", "orphans", "ids")]
        self._append_script = self._r.register_script(APPEND)
        self._claim_script = self._r.register_script(CLAIM)
        self._call(self._r.ping)

    # -- plumbing ------------------------------------------------------------------
    @property
    def run(self) -> str:
        """The run's name (its namespace on the server)."""
        return self._run

    @property
    def client(self) -> Any:
        """The underlying ``redis.Redis`` client (responses decoded to str)."""
        return self._r

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        delay, attempt = 0.05, 0
        while True:
            try:
                return fn(*args, **kwargs)
            except self._conn_errors:
                attempt += 1
                if attempt > self._retries:
                    raise
            time.sleep(delay)
            delay = min(delay * 2.0, 2.0)

    def _pipeline(self, build: Callable[[Any], None]) -> list[Any]:
        """Run the commands ``build(pipe)`` queues as one MULTI/EXEC (rebuilt on retry)."""

        def run() -> list[Any]:
            pipe = self._r.pipeline(transaction=True)
            build(pipe)
            return pipe.execute()

        return self._call(run)

    def _token_key(self) -> str:
        return f"{self.prefix}tok:{secrets.token_hex(12)}"

    def close(self) -> None:
        """Close the connection pool (the store may not be used after)."""
        self._r.close()

    def __reduce__(self) -> tuple[Callable[..., RedisStore], tuple[str, str, dict[str, Any]]]:
        return _open_redis_store, (self._url, self._run, dict(self._options))

    def __repr__(self) -> str:
        return f"RedisStore({_redact(self._url)!r}, run={self._run!r})"

    # -- the Store API -------------------------------------------------------------
    def append(self, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append events in one Lua script (see :meth:`Store.append`)."""
        prepared = prepare_events(events)
        if not prepared:
            return []
        argv: list[Any] = [len(prepared)]
        for ev in prepared:
            tid = ev["trial"]
            if tid is None:
                text = dumps({k: v for k, v in ev.items() if k != "trial"})
            else:
                text = dumps(ev)
            argv += [*_aux(ev), text]
        argv.append(self._token_ttl)
        keys = [*self._keys, self._token_key()]
        _, ids = self._call(self._append_script, keys=keys, args=argv)
        return [int(i) for i in ids]

    def events(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(seq, event)`` committed after ``after``, read in chunks."""
        start = max(int(after), 0)
        while True:
            rows = self._call(self._r.lrange, self._keys[0], start, start + _CHUNK - 1)
            for offset, text in enumerate(rows):
                event = self._decode(start + offset + 1, text)
                if event is not None:
                    yield start + offset + 1, event
            start += len(rows)
            if len(rows) < _CHUNK:
                return

    def _decode(self, seq: int, text: str) -> dict[str, Any] | None:
        try:
            event = loads(text)
        except (ValueError, TypeError) as exc:
            warnings.warn(
                f"{self!r}: skipping unreadable event #{seq} ({exc})", StoreWarning, stacklevel=3
            )
            return None
        if not isinstance(event, dict) or not isinstance(event.get("kind"), str):
            warnings.warn(
                f"{self!r}: skipping malformed event #{seq} (not an event object)",
                StoreWarning,
                stacklevel=3,
            )
            return None
        return event

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key`` (None when absent or unreadable)."""
        text = self._call(self._r.hget, f"{self.prefix}meta", key)
        if text is None:
            return None
        try:
            return loads(text)
        except (ValueError, TypeError) as exc:
            warnings.warn(f"{self!r}: unreadable meta value {key!r} ({exc})", StoreWarning, 2)
            return None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key``."""
        if not isinstance(key, str):
            raise TypeError(f"meta keys are strings, got {type(key).__name__}")
        self._call(self._r.hset, f"{self.prefix}meta", key, dumps(value))

    def setdefault_meta(self, key: str, value: Any) -> Any:
        """Store ``value`` under ``key`` unless a value is there; return the stored one."""
        self._call(self._r.hsetnx, f"{self.prefix}meta", key, dumps(value))
        return self.get_meta(key)

    def last_seq(self) -> int:
        """The sequence number of the last committed event (0 when empty)."""
        return int(self._call(self._r.llen, self._keys[0]))

    # -- decentralized search: claims and leases -------------------------------------
    def claim(
        self,
        submit: Mapping[str, Any],
        budget: int | None,
        *,
        adopt: int | None = None,
        lost: Mapping[str, Any] | None = None,
    ) -> int | None:
        """Create a trial only while the budget allows it, in one atomic step.

        Counted trials plus open (submitted, not ended) ones never exceed
        ``budget``. With ``adopt``, the new trial is a retry of trial ``adopt``,
        which must be either ``lost`` and not retried yet, or open under a peer
        whose lease expired (it is then ended with the ``lost`` event first).

        Args:
            submit: the ``submit`` event (its ``trial`` is ignored; a fresh id is used).
            budget: the most trials that may be counted or open at once (None: no limit).
            adopt: the trial to retry, if any.
            lost: the ``end`` event that reclaims ``adopt`` when its owner is gone.

        Returns:
            The new trial's id, or None when the budget is full or ``adopt`` is not
            (or no longer) up for adoption.
        """
        ev = prepare_events([{**submit, "trial": None}])[0]
        if ev["kind"] != "submit":
            raise ValueError(f"claim takes a submit event, got {ev['kind']!r}")
        text = dumps({k: v for k, v in ev.items() if k != "trial"})
        lost_text = ""
        if adopt is not None:
            adopt = int(adopt)
            ev["retry_of"] = adopt
            text = dumps({k: v for k, v in ev.items() if k != "trial"})
            end: dict[str, Any] = dict(lost) if lost is not None else {}
            end.update(kind="end", trial=adopt, status=TrialStatus.LOST.value)
            lost_text = dumps(end)
        argv = [
            "" if budget is None else int(budget),
            "" if adopt is None else adopt,
            lost_text,
            text,
            ev.get("peer") or "",
            self.prefix,
            self._token_ttl,
        ]
        keys = [*self._keys, self._token_key()]
        _, tid, _why = self._call(self._claim_script, keys=keys, args=argv)
        return None if int(tid) < 0 else int(tid)

    def heartbeat(self, peer: str, lease: float, info: Mapping[str, Any] | None = None) -> None:
        """Renew ``peer``'s lease for ``lease`` seconds (server clock) and record ``info``."""
        record = dumps({**(info or {}), "peer": peer, "seen": time.time(), "lease": lease})
        ms = max(int(lease * 1000), 1)

        def build(pipe: Any) -> None:
            pipe.set(f"{self.prefix}peer:{peer}", record, px=ms)
            pipe.hset(f"{self.prefix}peers", peer, record)

        self._pipeline(build)

    def leave(self, peer: str) -> None:
        """End ``peer``'s lease now (its open trials become reclaimable at once)."""
        self._call(self._r.delete, f"{self.prefix}peer:{peer}")

    def live_peers(self, peers: Sequence[str] | None = None) -> set[str]:
        """Which of ``peers`` (default: every peer that joined) hold a lease now."""
        if peers is None:
            peers = list(self._call(self._r.hkeys, f"{self.prefix}peers"))
        peers = list(peers)
        if not peers:
            return set()
        found = self._call(self._r.mget, [f"{self.prefix}peer:{p}" for p in peers])
        return {p for p, v in zip(peers, found, strict=True) if v is not None}

    def peers(self) -> dict[str, dict[str, Any]]:
        """Every peer that joined: its last heartbeat record and whether it is alive."""
        raw = self._call(self._r.hgetall, f"{self.prefix}peers")
        live = self.live_peers(list(raw))
        return {p: {**json.loads(v), "alive": p in live} for p, v in raw.items()}

    def budget_state(self) -> dict[str, int]:
        """``counted``, ``open`` and ``orphans`` trial counts, as the scripts keep them."""

        def build(pipe: Any) -> None:
            pipe.get(self._keys[3])
            pipe.hlen(self._keys[2])
            pipe.scard(self._keys[4])

        counted, n_open, orphans = self._pipeline(build)
        return {"counted": int(counted or 0), "open": int(n_open), "orphans": int(orphans)}

    def drop(self) -> int:
        """Delete every key of this run on the server; returns how many were deleted."""
        n = 0
        for key in self._call(lambda: list(self._r.scan_iter(match=f"{self.prefix}*"))):
            n += int(self._call(self._r.delete, key))
        return n


def _aux(ev: Mapping[str, Any]) -> list[Any]:
    """The script's per-event fields: trial id, kind and the two bookkeeping values."""
    tid = "" if ev["trial"] is None else int(ev["trial"])
    kind = ev["kind"]
    if kind == "submit":
        retry_of = ev.get("retry_of")
        return [tid, kind, ev.get("peer") or "", "" if retry_of is None else int(retry_of)]
    if kind == "end":
        status = ev.get("status")
        flag = "c" if status in _COUNTED else ("l" if status == TrialStatus.LOST.value else "u")
        return [tid, kind, flag, ""]
    return [tid, kind, "", ""]
