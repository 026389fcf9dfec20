"""The Redis store: the store contract suite over a real redis-server, and its extras."""

from __future__ import annotations

import hashlib
import multiprocessing
import pickle
import time

import pytest

from hyperhive.storage import open_store
from hyperhive.storage.redis import RedisStore, parse_redis_url
from hyperhive.testing.redis_server import redis_server_or_skip
from hyperhive.testing.store_contract import StoreContract
from hyperhive.trial import TrialStatus, submit_event


@pytest.fixture(scope="module")
def redis_server():
    server = redis_server_or_skip()
    yield server
    server.stop()


def _run_name(tmp_path) -> str:
    return "t" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]


class TestRedisStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _server(self, redis_server):
        self.url = redis_server.url

    def make_store(self, tmp_path):
        return RedisStore(self.url, run=_run_name(tmp_path))

    def corrupt_last_record(self, store):
        text = store.client.lindex(f"{store.prefix}log", -1)
        store.client.lset(f"{store.prefix}log", -1, text[: len(text) // 2])


def _end(tid: int, status: str = "done") -> dict:
    return {"kind": "end", "trial": tid, "status": status, "objective": 1.0}


def _writer(url: str, tag: int, n: int, gate, out) -> None:
    store = RedisStore(url)
    gate.wait(60)
    ids = [store.append([submit_event(None, {"w": tag, "i": i})])[0] for i in range(n)]
    out.put((tag, ids))


def test_ten_processes_times_200_trials(redis_server):
    url = f"{redis_server.url}?run=tenfold"
    ctx = multiprocessing.get_context("spawn")
    gate, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, k, 200, gate, out)) for k in range(10)]
    for p in procs:
        p.start()
    gate.set()
    returned = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    ids = [tid for tag in returned for tid in returned[tag]]
    assert len(ids) == len(set(ids)) == 2000
    store = open_store(url)
    trials = store.trials()
    assert sorted(trials) == list(range(2000))
    assert sorted((t.config["w"], t.config["i"]) for t in trials.values()) == [
        (w, i) for w in range(10) for i in range(200)
    ]


def test_password_and_url_forms(tmp_path):
    server = redis_server_or_skip(password="s3cret")
    try:
        store = open_store(server.url + "?run=pw")
        assert isinstance(store, RedisStore) and store.run == "pw"
        assert "s3cret" not in repr(store)
        (tid,) = store.append([submit_event(None, {"x": 1})])
        again = pickle.loads(pickle.dumps(store))
        assert again.run == "pw" and set(again.trials()) == {tid}
        import redis

        with pytest.raises(redis.AuthenticationError):
            RedisStore(f"redis://:wrong@127.0.0.1:{server.port}/0", retries=0)
        other = open_store(server.url, run="named")
        assert other.run == "named" and other.trials() == {}
    finally:
        server.stop()


def test_tls_url(tmp_path):
    import shutil

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    server = redis_server_or_skip(tls_dir=tmp_path / "tls", password="pw")
    try:
        assert server.url.startswith("rediss://")
        store = open_store(server.url + "&run=tls")
        (tid,) = store.append([submit_event(None, {"x": 1})])
        assert store.trials()[tid].config == {"x": 1}
    finally:
        server.stop()


def test_parse_url_and_run_names():
    assert parse_redis_url("redis://h:1/0?run=a&ssl_cert_reqs=none") == (
        "redis://h:1/0?ssl_cert_reqs=none",
        "a",
    )
    assert parse_redis_url("rediss://:p@h/2") == ("rediss://:p@h/2", None)
    with pytest.raises(ValueError, match="run name"):
        RedisStore("redis://127.0.0.1:1/0", run="a{b}")


def test_claims_respect_the_budget_and_fence_late_results(redis_server):
    store = RedisStore(redis_server.url, run="claims")
    store.drop()
    a = store.claim(submit_event(None, {"k": 0}, peer="A"), 2)
    b = store.claim(submit_event(None, {"k": 1}, peer="B"), 2)
    assert (a, b) == (0, 1)
    assert store.claim(submit_event(None, {"k": 2}, peer="B"), 2) is None
    assert store.budget_state() == {"counted": 0, "open": 2, "orphans": 0}
    store.heartbeat("B", 30.0, {"host": "h"})
    store.heartbeat("A", 0.05)
    # B's trial is alive and cannot be adopted; A's lease runs out.
    assert store.claim(submit_event(None, {"k": 1}, peer="C"), 2, adopt=b) is None
    time.sleep(0.1)
    assert store.live_peers(["A", "B"]) == {"B"}
    retry = store.claim(submit_event(None, {"k": 0}, peer="C", attempt=1), 2, adopt=a)
    assert retry == 2
    assert store.claim(submit_event(None, {"k": 0}, peer="D"), 2, adopt=a) is None
    store.append([_end(a)])  # A's late result: kept in the log, not counted
    store.append([_end(b), _end(retry)])
    trials = store.trials()
    assert trials[a].status == TrialStatus.LOST and trials[retry].retry_of == a
    assert trials[retry].status == TrialStatus.DONE
    assert sum(t.counted for t in trials.values()) == 2
    assert store.budget_state() == {"counted": 2, "open": 0, "orphans": 0}
    kinds = [(ev["kind"], ev["trial"]) for _, ev in store.events()]
    assert kinds.count(("end", a)) == 2
    peers = store.peers()
    assert peers["B"]["alive"] and not peers["A"]["alive"] and peers["B"]["host"] == "h"
    # A released (lost) trial is adopted once, within the budget.
    (c,) = store.append([submit_event(None, {"k": 3}, peer="C")])
    assert store.claim(submit_event(None, {}, peer="C"), 3) is None
    store.append([{"kind": "end", "trial": c, "status": "lost"}])
    assert store.budget_state()["orphans"] == 1
    assert store.claim(submit_event(None, {"k": 3}, peer="D"), 3, adopt=c) is not None
    assert store.budget_state() == {"counted": 2, "open": 1, "orphans": 0}
    assert store.setdefault_meta("seed", 1) == 1 and store.setdefault_meta("seed", 2) == 1
    assert store.drop() > 0 and store.trials() == {}
