"""Reading runs without touching them: run directories, journal paths, URLs, Results."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

import hyperhive as hh
from hyperhive.analysis import load_run
from hyperhive.analysis.source import RunReader, as_runs
from hyperhive.storage import ReadOnlyStoreError, SQLiteReader, open_reader


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_way_of_naming_a_run(single_run: Path) -> None:
    expected = hh.load(single_run)
    for run in (single_run, str(single_run), single_run / "journal.sqlite"):
        got = load_run(run)
        assert [t.id for t in got.records] == [t.id for t in expected.records]
        assert got.space == expected.space and got.directions == expected.directions
    url = load_run(f"sqlite:///{single_run / 'journal.sqlite'}")
    assert len(url) == len(expected)
    assert load_run(expected) is expected


def test_reading_writes_nothing(single_run: Path) -> None:
    journal = single_run / "journal.sqlite"
    before = _digest(journal), sorted(p.name for p in single_run.iterdir())
    load_run(single_run)
    assert (_digest(journal), sorted(p.name for p in single_run.iterdir())) == before


def test_the_reader_refuses_writes(single_run: Path) -> None:
    store = open_reader(single_run)
    assert isinstance(store, SQLiteReader)
    with pytest.raises(ReadOnlyStoreError):
        store.append([{"kind": "submit", "trial": None, "config": {}}])
    with pytest.raises(ReadOnlyStoreError):
        store.set_meta("x", 1)
    with pytest.raises(sqlite3.OperationalError):  # the connection itself is read-only
        store._conn().execute("CREATE TABLE t (x)")
    assert store.last_seq() > 0 and len(store.trials()) == 40
    store.close()


def test_missing_runs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_run(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError):
        SQLiteReader(tmp_path)  # a folder without a journal
    assert list(tmp_path.iterdir()) == []  # and nothing was created
    with pytest.raises(TypeError, match="run must be"):
        load_run(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported store URL"):
        open_reader("ftp://host/x")


def test_the_reader_follows_a_growing_run(tmp_path: Path) -> None:
    space = hh.Space({"x": hh.Float(0, 1)})
    hh.search(lambda c: c["x"], space, max_evals=3, seed=0, run_dir=tmp_path / "r")
    reader = RunReader(tmp_path / "r")
    assert reader.refresh() and len(reader.result()) == 3
    assert not reader.refresh()
    hh.search(lambda c: c["x"], space, max_evals=5, seed=0, run_dir=tmp_path / "r")
    assert reader.refresh() and len(reader.result()) == 5
    reader.close()


def test_comparison_labels_are_unique(single_run: Path) -> None:
    runs = as_runs([single_run, single_run])
    assert [label for label, _ in runs] == ["single", "single (2)"]
    with pytest.raises(ValueError, match="at least one run"):
        as_runs([])


def test_a_run_in_redis_by_url() -> None:
    from hyperhive.testing.redis_server import redis_server_or_skip

    server = redis_server_or_skip()
    try:
        url = f"{server.url}?run=analysed"
        space = hh.Space({"x": hh.Float(0, 1)})
        hh.worker(lambda c: c["x"], space, store=url, max_evals=6, seed=0, optimizer="random")
        result = load_run(url)
        assert len(result) == 6 and result.space == space and result.run_dir is None
        assert as_runs(url)[0][0] == url
    finally:
        server.stop()
