from __future__ import annotations

import os
import pickle
import sqlite3
import sys
import threading
import time

import pytest

from hyperhive.storage import SQLiteStore, StoreWarning
from hyperhive.storage.sqlite import SCHEMA_VERSION, resolve_journal_path
from hyperhive.testing.store_contract import StoreContract
from hyperhive.trial import submit_event


class TestSQLiteStore(StoreContract):
    def make_store(self, tmp_path):
        return SQLiteStore(tmp_path / "journal.sqlite")

    def corrupt_last_record(self, store):
        with sqlite3.connect(store.path) as raw:
            raw.execute(
                "UPDATE events SET data = substr(data, 1, length(data) / 2) "
                "WHERE seq = (SELECT MAX(seq) FROM events)"
            )
        raw.close()


def _pragma(store, name):
    return store._conn().execute(f"PRAGMA {name}").fetchone()[0]


def test_wal_and_synchronous(tmp_path):
    with SQLiteStore(tmp_path / "a.sqlite") as normal:
        assert _pragma(normal, "journal_mode") == "wal"
        assert _pragma(normal, "synchronous") == 1  # NORMAL
        assert _pragma(normal, "busy_timeout") >= 60000
    with SQLiteStore(tmp_path / "b.sqlite", durability="full") as full:
        assert full.durability == "full"
        assert _pragma(full, "synchronous") == 2  # FULL
    with pytest.raises(ValueError, match="durability"):
        SQLiteStore(tmp_path / "c.sqlite", durability="paranoid")


def test_schema(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    store.append([submit_event(None, {"x": 1})])
    store.close()
    raw = sqlite3.connect(tmp_path / "j.sqlite")
    cols = [r[1] for r in raw.execute("PRAGMA table_info(events)")]
    assert cols == ["seq", "trial", "kind", "data"]
    assert [r[1] for r in raw.execute("PRAGMA table_info(meta)")] == ["key", "value"]
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("SELECT trial, kind FROM events").fetchall() == [(0, "submit")]
    raw.close()


def test_run_directory_path(tmp_path):
    assert resolve_journal_path(tmp_path) == tmp_path / "journal.sqlite"
    assert resolve_journal_path(tmp_path / "run") == tmp_path / "run" / "journal.sqlite"
    assert resolve_journal_path(tmp_path / "x.db") == tmp_path / "x.db"
    with SQLiteStore(tmp_path / "run") as store:
        assert store.path == tmp_path / "run" / "journal.sqlite"
        assert store.path.is_file()


def test_newer_schema_is_refused(tmp_path):
    SQLiteStore(tmp_path / "j.sqlite").close()
    raw = sqlite3.connect(tmp_path / "j.sqlite")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match="newer hyperhive"):
        SQLiteStore(tmp_path / "j.sqlite")


def test_closed_store_refuses_use(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    store.close()
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.append([submit_event(None, {})])


def test_pickle_gives_a_handle_to_the_same_file(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite", durability="full", timeout=5.0)
    (tid,) = store.append([submit_event(None, {"x": 1})])
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path and copy.durability == "full"
    (other,) = copy.append([submit_event(None, {"x": 2})])
    assert other == tid + 1
    assert set(store.trials()) == {tid, other}
    copy.close()
    store.close()


def test_each_thread_has_its_own_connection(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    conns = [store._conn()]
    t = threading.Thread(target=lambda: conns.append(store._conn()))
    t.start()
    t.join()
    assert conns[0] is not conns[1]
    assert store._conn() is conns[0]
    store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_opens_its_own_connection(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    (first,) = store.append([submit_event(None, {"who": "parent"})])
    parent_conn = store._conn()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            if store._conn() is not parent_conn:
                store.append([submit_event(None, {"who": "child"})])
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store._conn() is parent_conn
    configs = [t.config["who"] for t in store.trials().values()]
    assert configs == ["parent", "child"]
    store.close()


def test_waits_for_a_writer_holding_the_lock(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    blocker = sqlite3.connect(tmp_path / "j.sqlite", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO events (trial, kind, data) VALUES (7, 'note', '{}')")
    timer = threading.Timer(0.3, lambda: blocker.execute("COMMIT"))
    timer.start()
    t0 = time.monotonic()
    (tid,) = store.append([submit_event(None, {"x": 1})])
    assert time.monotonic() - t0 >= 0.2
    assert tid == 8  # assigned under the lock, after the other writer's trial 7
    timer.join()
    blocker.close()
    store.close()


def test_gives_up_after_timeout(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite", timeout=0.2)
    blocker = sqlite3.connect(tmp_path / "j.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.append([submit_event(None, {"x": 1})])
    blocker.execute("ROLLBACK")
    blocker.close()
    assert store.append([submit_event(None, {"x": 1})]) == [0]
    store.close()


def test_malformed_rows_and_meta_warn(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    store.append([submit_event(None, {"x": 1})])
    store.set_meta("k", 1)
    raw = sqlite3.connect(tmp_path / "j.sqlite")
    raw.execute("INSERT INTO events (trial, kind, data) VALUES (1, 'submit', '[1, 2]')")
    raw.execute("INSERT INTO events (trial, kind, data) VALUES (2, 'submit', '{\"no\": 1}')")
    raw.execute("UPDATE meta SET value = '{bad' WHERE key = 'k'")
    raw.commit()
    raw.close()
    with pytest.warns(StoreWarning, match="malformed"):
        assert len(list(store.events())) == 1
    with pytest.warns(StoreWarning, match="meta"):
        assert store.get_meta("k") is None
    assert store.last_seq() == 3
    store.close()


def test_events_stream_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("hyperhive.storage.sqlite._CHUNK", 7)
    store = SQLiteStore(tmp_path / "j.sqlite")
    for _ in range(5):
        store.append([submit_event(None, {}) for _ in range(6)])
    seqs = [seq for seq, _ in store.events()]
    assert seqs == list(range(1, 31))
    assert [seq for seq, _ in store.events(after=13)] == list(range(14, 31))
    store.close()


def test_append_rate_smoke(tmp_path):
    # A lenient floor (the machine is shared): ~15k/s measured on 2 cores.
    store = SQLiteStore(tmp_path / "j.sqlite")
    t0 = time.perf_counter()
    for i in range(300):
        store.append([submit_event(None, {"i": i})])
    assert 300 / (time.perf_counter() - t0) > 300
    store.close()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_read_only_journal_still_reads(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    store.append([submit_event(None, {"x": 1})])
    store.close()
    again = SQLiteStore(tmp_path / "j.sqlite")
    assert len(again.trials()) == 1
    again.close()


def test_connections_of_ended_threads_are_closed(tmp_path):
    store = SQLiteStore(tmp_path / "j.sqlite")
    for i in range(20):
        t = threading.Thread(target=store.append, args=([submit_event(None, {"i": i})],))
        t.start()
        t.join()
    store.append([submit_event(None, {"i": 20})])
    assert len(store._conns) <= 2
    assert len(store.trials()) == 21
    store.close()
