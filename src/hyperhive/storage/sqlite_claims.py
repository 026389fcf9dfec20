"""The SQL of budget claims and leases over a SQLite journal (see :mod:`hyperhive.storage.claims`).

Each function runs inside a transaction that :class:`~hyperhive.storage.sqlite.SQLiteStore`
opens (``BEGIN IMMEDIATE``), on the connection it passes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from hyperhive.storage.codec import dumps, loads
from hyperhive.trial import TrialStatus

__all__ = ["alive", "claim", "peer_records"]

_COUNTED_SQL = ", ".join(f"'{s.value}'" for s in TrialStatus if s.counted)
_INSERT = "INSERT INTO events (trial, kind, data) VALUES (?, ?, ?)"


def claim(
    conn: sqlite3.Connection,
    ev: Mapping[str, Any],
    budget: int | None,
    adopt: int | None,
    end: Mapping[str, Any] | None,
    now: float,
) -> int | None:
    """Append the submit ``ev`` under a fresh id if allowed (see ``ClaimStore.claim``)."""
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
            if row is None or not row[0] or alive(conn, row[0], now):
                return None
            conn.execute(_INSERT, (adopt, "end", dumps(end)))
        elif (
            first[0] != TrialStatus.LOST.value
            or conn.execute(
                "SELECT 1 FROM events WHERE kind = 'submit' "
                "AND json_extract(data, '$.retry_of') = ? LIMIT 1",
                (adopt,),
            ).fetchone()
        ):
            return None
    if budget is not None and _taken(conn) >= budget:
        return None
    (top,) = conn.execute("SELECT MAX(trial) FROM events").fetchone()
    tid = 0 if top is None else int(top) + 1
    conn.execute(_INSERT, (tid, "submit", dumps({**ev, "trial": tid})))
    return tid


def _taken(conn: sqlite3.Connection) -> int:
    """Counted trials (by their first ``end``) plus open ones."""
    (counted,) = conn.execute(
        "SELECT COUNT(*) FROM (SELECT MIN(seq), data FROM events WHERE kind = 'end' "
        f"GROUP BY trial) WHERE json_extract(data, '$.status') IN ({_COUNTED_SQL})"
    ).fetchone()
    (n_open,) = conn.execute(
        "SELECT COUNT(DISTINCT trial) FROM events AS s WHERE kind = 'submit' AND NOT EXISTS "
        "(SELECT 1 FROM events AS e WHERE e.trial = s.trial AND e.kind = 'end')"
    ).fetchone()
    return int(counted) + int(n_open)


def alive(conn: sqlite3.Connection, peer: str, now: float) -> bool:
    """Whether ``peer``'s lease record expires after ``now``."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"peer:{peer}",)).fetchone()
    if row is None:
        return False
    try:
        return float(loads(row[0]).get("expires") or 0.0) > now
    except (ValueError, TypeError, AttributeError):
        return False


def peer_records(rows: list[Any], now: float) -> dict[str, dict[str, Any]]:
    """``peer:<id>`` meta rows -> each peer's record with ``alive``."""
    out: dict[str, dict[str, Any]] = {}
    for key, text in rows:
        try:
            record = loads(text)
        except (ValueError, TypeError):
            continue
        if isinstance(record, dict):
            alive_now = float(record.get("expires") or 0.0) > now
            out[key[len("peer:") :]] = {**record, "alive": alive_now}
    return out
