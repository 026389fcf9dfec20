"""Decentralized search inside one process: claims, fencing, thread peers, store=."""

from __future__ import annotations

import threading
import time

import pytest

import hyperhive as hh
from hyperhive.storage import LocalClaims, MemoryStore, SQLiteStore, claims_for, open_store
from hyperhive.trial import submit_event

SPACE = hh.Space({"x": hh.Float(0.0, 1.0)})


def _end(tid: int, status: str = "done") -> dict:
    return {"kind": "end", "trial": tid, "status": status, "objective": 0.5}


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_claims_budget_adoption_and_fencing(tmp_path, kind):
    store = SQLiteStore(tmp_path / "j.sqlite") if kind == "sqlite" else MemoryStore()
    coord = claims_for(store)
    assert isinstance(coord, SQLiteStore if kind == "sqlite" else LocalClaims)
    coord.heartbeat("A", 0.05)
    coord.heartbeat("B", 30.0)
    a = coord.claim(submit_event(None, {"k": 0}, peer="A"), 2)
    b = coord.claim(submit_event(None, {"k": 1}, peer="B"), 2)
    assert coord.claim(submit_event(None, {"k": 2}, peer="B"), 2) is None
    assert coord.claim(submit_event(None, {}, peer="C"), 2, adopt=b) is None  # B is alive
    time.sleep(0.1)
    assert coord.live_peers(["A", "B"]) == {"B"}
    retry = coord.claim(submit_event(None, {"k": 0}, peer="C", attempt=1), 2, adopt=a)
    assert retry is not None
    assert coord.claim(submit_event(None, {}, peer="D"), 2, adopt=a) is None  # adopted once
    store.append([_end(a), _end(b), _end(retry)])  # a's late result does not count
    trials = store.trials()
    assert trials[a].status == hh.TrialStatus.LOST and trials[retry].retry_of == a
    assert sum(t.counted for t in trials.values()) == 2
    assert sum(1 for _, ev in store.events() if ev["kind"] == "end" and ev["trial"] == a) == 2
    assert coord.claim(submit_event(None, {}, peer="C"), 2) is None
    (c,) = store.append([submit_event(None, {"k": 3}, peer="C")])
    store.append([_end(c, "lost")])
    assert coord.claim(submit_event(None, {}, peer="D"), 3, adopt=c) is not None
    assert coord.claim(submit_event(None, {}, peer="D"), None) is not None
    coord.leave("B")
    assert coord.live_peers(["B"]) == set()
    assert coord.setdefault_meta("k", 1) == 1 and coord.setdefault_meta("k", 2) == 1
    store.close()


def test_thread_peers_share_a_memory_store():
    store = MemoryStore()
    results, lock = [], threading.Lock()

    def peer(i: int) -> None:
        r = hh.worker(
            lambda c: time.sleep(0.005) or c["x"],
            SPACE,
            store=store,
            max_evals=30,
            optimizer="random",
            peer=f"p{i}",
            poll=0.05,
        )
        with lock:
            results.append(r)

    threads = [threading.Thread(target=peer, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 3
    trials = store.trials()
    assert sum(t.counted for t in trials.values()) == 30 == len(trials)
    assert {t.peer for t in trials.values()} <= {"p0", "p1", "p2"}
    assert all(r.n_counted == 30 and r.stop_reason == "max_evals reached" for r in results)


def test_worker_checks(tmp_path):
    with pytest.raises(ValueError, match="shared store"):
        hh.worker(lambda c: 0.0, SPACE)
    with pytest.raises(ValueError, match="lease"):
        hh.worker(lambda c: 0.0, SPACE, run_dir=tmp_path / "a", lease=0)
    hh.worker(lambda c: c["x"], SPACE, run_dir=tmp_path / "r", max_evals=3, optimizer="random")
    other = hh.Space({"y": hh.Float(0.0, 1.0)})
    with pytest.raises(ValueError, match="different space"):
        hh.worker(lambda c: 0.0, other, store=tmp_path / "r", max_evals=3)
    with pytest.raises(ValueError, match="direction"):
        hh.worker(lambda c: 0.0, SPACE, run_dir=tmp_path / "r", direction="maximize")
    with pytest.raises(TypeError, match="atomic budget claims"):
        claims_for(type("S", (MemoryStore,), {"capabilities": frozenset({"multiprocess"})})())


def test_callback_stop_reaches_every_peer(tmp_path):
    def stopper(trial, state):
        if state.counted >= 5:
            state.stop("enough")

    r = hh.worker(
        lambda c: c["x"],
        SPACE,
        run_dir=tmp_path / "r",
        max_evals=50,
        callbacks=[stopper],
        optimizer="random",
    )
    assert r.stop_reason == "enough" and r.n_counted == 5
    again = hh.worker(lambda c: c["x"], SPACE, run_dir=tmp_path / "r", max_evals=50)
    assert again.stop_reason == "stopped by another peer: enough" and again.n_counted == 5
    more = hh.worker(
        lambda c: c["x"], SPACE, run_dir=tmp_path / "r", max_evals=51, optimizer="random"
    )
    assert more.stop_reason == "max_evals reached" and more.n_counted == 51


def test_search_with_a_redis_store_resumes(tmp_path, redis_server):
    url = redis_server.url
    run_dir = tmp_path / "central"
    r = hh.search(
        lambda c: c["x"], SPACE, store=url, run_dir=run_dir, max_evals=6, seed=1, optimizer="random"
    )
    assert r.n_counted == 6 and not (run_dir / "journal.sqlite").exists()
    r = hh.search(
        lambda c: c["x"], SPACE, store=url, run_dir=run_dir, max_evals=9, seed=1, optimizer="random"
    )
    assert r.n_counted == 9 and len(r.records) == 9
    store = open_store(url, run="central")
    assert len(store.trials()) == 9 and store.budget_state()["counted"] == 9


def test_load_and_peers_from_a_store(tmp_path, redis_server):
    from hyperhive.search.worker import peers

    url = f"{redis_server.url}?run=loadme"
    r = hh.worker(lambda c: c["x"], SPACE, store=url, max_evals=4, optimizer="random", peer="solo")
    loaded = hh.load(tmp_path / "nowhere", store=url)  # the run record lives in the store
    assert loaded.n_counted == 4 and [t.id for t in loaded.records] == [t.id for t in r.records]
    assert set(loaded.trials["peer"]) == {"solo"} and loaded.seed == r.seed
    info = peers(url)
    assert set(info) == {"solo"} and not info["solo"]["alive"] and info["solo"]["workers"] == 1
    run_dir = tmp_path / "central-loaded"
    hh.search(
        lambda c: c["x"],
        SPACE,
        store=redis_server.url,
        run_dir=run_dir,
        max_evals=3,
        optimizer="random",
    )
    assert hh.load(run_dir, store=redis_server.url).n_counted == 3  # run.json from run_dir
    with pytest.raises(FileNotFoundError):
        hh.load(tmp_path / "x", store=f"{redis_server.url}?run=empty")
    sqlite_dir = tmp_path / "sq"
    hh.worker(lambda c: c["x"], SPACE, run_dir=sqlite_dir, max_evals=2, optimizer="random")
    (only,) = peers(sqlite_dir / "journal.sqlite").values()
    assert not only["alive"] and only["host"]


def test_worker_takes_the_options_of_search(tmp_path):
    """initial_points, warm_start, slots_per_trial, callbacks and progress mean the same
    for a peer as for hh.search."""
    old = hh.search(lambda c: c["x"], SPACE, max_evals=4, optimizer="random", seed=0)
    seen, progress = [], []
    r = hh.worker(
        lambda c: c["x"],
        SPACE,
        run_dir=tmp_path / "r",
        max_evals=5,
        optimizer="random",
        workers=2,
        executor="thread",
        initial_points=[{"x": 0.25}, {"x": 0.75}],
        warm_start=old,
        slots_per_trial=lambda c: 2 if c["x"] > 0.5 else 1,
        callbacks=[lambda t, s: seen.append(t.id)],
        progress=progress.append,
        poll=0.05,
    )
    assert r.n_counted == 5
    assert [t.config for t in r.records[:2]] == [{"x": 0.25}, {"x": 0.75}]
    assert sorted(seen) == [t.id for t in r.records]
    assert progress and progress[-1]["final"] and progress[-1]["peer"]
    assert all(0.0 <= p["utilization"] <= 1.0 for p in progress)
    # a peer that joins later skips the initial points the run holds, calls no callback
    # for trials that ended before it started
    again: list[int] = []
    r2 = hh.worker(
        lambda c: c["x"],
        SPACE,
        run_dir=tmp_path / "r",
        max_evals=6,
        optimizer="random",
        initial_points=[{"x": 0.25}],
        callbacks=[lambda t, s: again.append(t.id)],
        poll=0.05,
    )
    assert r2.n_counted == 6
    assert [t.config for t in r2.records].count({"x": 0.25}) == 1
    assert again == [r2.records[-1].id]
    with pytest.raises(TypeError, match="slots_per_trial"):
        hh.worker(lambda c: 0.0, SPACE, run_dir=tmp_path / "r", slots_per_trial=3)
