"""Rung stores: memory, SQLite and Redis answer the same, and SQLite/Redis share across handles."""

from __future__ import annotations

import math
import multiprocessing
import pickle

import numpy as np
import pytest

from hyperhive.storage import SQLiteStore
from hyperhive.storage.rungs import MemoryRungs, RungStore, SQLiteRungs, rungs_for
from hyperhive.testing.redis_server import redis_server_or_skip


@pytest.fixture(scope="module")
def redis_url():
    server = redis_server_or_skip()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def rungs(request, tmp_path) -> RungStore:
    if request.param == "memory":
        return MemoryRungs()
    if request.param == "sqlite":
        return SQLiteRungs(tmp_path / "run")
    from hyperhive.storage.redis_rungs import RedisRungs

    return RedisRungs(request.getfixturevalue("redis_url"), run=f"t{id(tmp_path)}")


def test_record_count_dominating_trial(rungs):
    assert rungs.count("a", 1) == 0
    assert rungs.dominating("a", 1, [0.0]) == 0
    assert rungs.record("a", 1, 1, [0.5]) is True
    assert rungs.record("a", 1, 1, [0.1]) is False  # first record wins
    assert rungs.record("a", 2, 1, [0.2])
    assert rungs.record("a", 3, 1, [math.nan])
    assert rungs.record("a", 2, 3, [0.3])
    assert rungs.record("b", 9, 1, [-5.0])  # another key is apart
    assert rungs.count("a", 1) == 3
    assert rungs.dominating("a", 1, [0.5]) == 1
    assert rungs.dominating("a", 1, [0.2]) == 0
    assert rungs.dominating("a", 1, [math.inf]) == 2  # nan was stored as +inf
    assert rungs.trial("a", 2) == {1: (0.2,), 3: (0.3,)}
    assert rungs.trial("a", 3) == {1: (math.inf,)}
    assert rungs.trial("a", 7) == {}


def test_several_objectives_count_dominating_records(rungs):
    rng = np.random.default_rng(0)
    points = rng.random((40, 2))
    for i, p in enumerate(points):
        rungs.record("mo", i, 3, p.tolist())
    for q in rng.random((10, 2)):
        expected = int(np.sum(np.all(points <= q, axis=1) & np.any(points < q, axis=1)))
        assert rungs.dominating("mo", 3, q.tolist()) == expected
    assert rungs.trial("mo", 4) == {3: tuple(points[4].tolist())}


def _record_many(rungs: SQLiteRungs, start: int) -> None:  # pragma: no cover - child
    for t in range(start, start + 50):
        rungs.record("p", t, 1, [float(t)])


def test_sqlite_rungs_live_in_the_journal_and_are_shared_by_processes(tmp_path):
    store = SQLiteStore(tmp_path / "run")
    rungs = rungs_for(store)
    assert isinstance(rungs, SQLiteRungs) and rungs.path == store.path
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(pickle.loads(pickle.dumps(rungs)), s))
             for s in (0, 50)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert rungs.count("p", 1) == 100
    assert SQLiteRungs(tmp_path / "run").dominating("p", 1, [10.0]) == 10
    store.close()


def test_rungs_for_picks_by_store(redis_url):
    from hyperhive.storage import MemoryStore
    from hyperhive.storage.redis import RedisStore
    from hyperhive.storage.redis_rungs import RedisRungs

    assert isinstance(rungs_for(MemoryStore()), MemoryRungs)
    assert isinstance(rungs_for(None), MemoryRungs)
    store = RedisStore(redis_url, run="pick")
    rungs = rungs_for(store)
    assert isinstance(rungs, RedisRungs)
    rungs.record("k", 1, 1, [1.0])
    assert any(k.startswith("hh:{pick}:rung") for k in store.client.keys("*"))


def test_best_records_of_a_rung(rungs):
    for t, v in [(5, 0.3), (2, 0.1), (9, 0.3), (1, 0.7), (4, 0.3)]:
        rungs.record("b", t, 27, [v])
    assert rungs.best("b", 27, 3) == [(2, (0.1,)), (4, (0.3,)), (5, (0.3,))]
    assert rungs.best("b", 27, 10)[-1] == (1, (0.7,))
    assert rungs.best("b", 9, 3) == []
    for t, v in [(1, (0.1, 0.9)), (2, (0.2, 0.2)), (3, (0.5, 0.5)), (4, (0.9, 0.1))]:
        rungs.record("mo", t, 27, list(v))
    top = rungs.best("mo", 27, 3)
    assert {t for t, _ in top} == {1, 2, 4}  # the non-dominated ones first
