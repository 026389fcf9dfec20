"""Redis store throughput: events per second from concurrent writer processes.

Each writer process appends trials (a ``submit`` with a fresh id, then its ``end``)
as fast as it can for ``--seconds``; batches of ``--batch`` events per append. The
table gives committed events per second over all writers, the server's own time
per call (``INFO commandstats``), and the same for SQLite on the local disk. The
last lines are the store costs to give the scale simulator.

    python benchmarks/redis_store.py [--writers 8] [--seconds 5] [--url redis://...]

Without ``--url`` a throw-away ``redis-server`` is started on a free local port.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from typing import Any

from hyperhive.storage import SQLiteStore, open_store
from hyperhive.storage.redis import RedisStore
from hyperhive.testing.redis_server import RedisServer
from hyperhive.trial import submit_event

CONFIG = {f"x{i}": 0.5 for i in range(5)}


def _end(tid: int) -> dict[str, Any]:
    return {
        "kind": "end",
        "trial": tid,
        "status": "done",
        "objective": 0.25,
        "constraints": None,
        "metadata": {},
        "reason": None,
        "traceback": None,
        "started": 1.0,
        "finished": 2.0,
        "worker": "w",
        "host": "h",
    }


def _writer(target: str, batch: int, seconds: float, gate: Any, out: Any) -> None:
    store = open_store(target)
    gate.wait(120)
    n = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if batch == 1:
            (tid,) = store.append([submit_event(None, CONFIG, peer="bench")])
            store.append([_end(tid)])
            n += 2
        else:
            half = batch // 2
            ids = store.append([submit_event(None, CONFIG, peer="bench") for _ in range(half)])
            store.append([_end(t) for t in ids])
            n += 2 * half
    out.put(n)
    store.close()


def measure(target: str, writers: int, batch: int, seconds: float) -> float:
    """Events per second committed by ``writers`` processes appending to ``target``."""
    ctx = mp.get_context("spawn")
    gate, out = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(target, batch, seconds, gate, out))
        for _ in range(writers)
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every interpreter import hyperhive
    gate.set()
    total = sum(out.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join(60)
    return total / seconds


def read_rate(store: Any) -> float:
    """Events per second read back by one reader (the whole journal)."""
    t0 = time.perf_counter()
    n = sum(1 for _ in store.events())
    return n / (time.perf_counter() - t0)


def server_costs(store: RedisStore) -> dict[str, float]:
    """Server microseconds per call of the append script and of LRANGE."""
    stats = store.client.info("commandstats")
    out = {}
    for name in ("evalsha", "lrange"):
        entry = stats.get(f"cmdstat_{name}")
        if entry:
            out[name] = float(entry["usec_per_call"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--batches", default="1,10")
    parser.add_argument("--url", default=None, help="an existing server (default: start one)")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server = RedisServer().start()
        url = server.url
    rows, results = [], []
    try:
        for batch in (int(b) for b in args.batches.split(",")):
            run = f"bench{batch}-{os.getpid()}"
            target = f"{url}{'&' if '?' in url else '?'}run={run}"
            admin = RedisStore(target)
            admin.drop()
            admin.client.config_resetstat()
            rate = measure(target, args.writers, batch, args.seconds)
            appended = server_costs(admin)
            admin.client.config_resetstat()
            reads = read_rate(admin)
            costs = {**server_costs(admin), "evalsha": appended.get("evalsha", float("nan"))}
            per_event_read = costs.get("lrange", 0.0) / 2000.0  # LRANGE reads 2,000 at a time
            results.append(
                {
                    "store": "redis",
                    "batch": batch,
                    "events_per_s": rate,
                    "read_per_s": reads,
                    "server_us_per_append": costs.get("evalsha"),
                    "server_us_per_event_read": per_event_read,
                }
            )
            rows.append(
                (
                    "redis",
                    batch,
                    f"{rate:,.0f}",
                    f"{reads:,.0f}",
                    f"{costs.get('evalsha', float('nan')):.1f}",
                    f"{per_event_read:.3f}",
                )
            )
            admin.drop()
            admin.close()
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "journal.sqlite")
                SQLiteStore(path).close()
                rate = measure(path, args.writers, batch, args.seconds)
                reads = read_rate(SQLiteStore(path))
                results.append(
                    {"store": "sqlite", "batch": batch, "events_per_s": rate, "read_per_s": reads}
                )
                rows.append(("sqlite (local disk)", batch, f"{rate:,.0f}", f"{reads:,.0f}", "", ""))
    finally:
        if server is not None:
            server.stop()
    print(
        f"\n{args.writers} writer processes, {args.seconds:g} s each; "
        f"{platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    head = (
        "store",
        "events/append",
        "events/s (all writers)",
        "events/s read (1 reader)",
        "server us/append",
        "server us/event read",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    one = next(r for r in results if r["store"] == "redis" and r["batch"] == 1)
    print(
        f"\nsimulator: store_service={one['server_us_per_append'] * 1e-6:.2e} s, "
        f"event_cost={one['server_us_per_event_read'] * 1e-6:.2e} s"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"writers": args.writers, "seconds": args.seconds, "results": results}, f, indent=2
            )


if __name__ == "__main__":
    sys.exit(main())
