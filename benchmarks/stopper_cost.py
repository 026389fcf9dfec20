"""Cost of a stopper decision: one report + decision round trip with 100,000 reports stored.

For each stopper, synthetic learning curves are fed through it (rung store in memory)
until ``--stored`` reports were made; the records this left are copied into a SQLite
rung store (in a journal file) and a Redis one (a throw-away ``redis-server``). Then
``--probes`` reports of new trials are made, step by step, through each store, and
every ``Stopper.report`` call is timed (a report between two rungs reads nothing, so
the 95th percentile is the cost of a decision that reads a rung). Targets (issue 15):
under 1 ms in process, under 5 ms through Redis.

Usage::

    python benchmarks/stopper_cost.py [--stored 100000] [--probes 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULTS, machine_info  # noqa: E402

from hyperhive import stoppers  # noqa: E402
from hyperhive.storage.rungs import MemoryRungs, SQLiteRungs  # noqa: E402

MAX_STEPS = 27

MAKERS: dict[str, tuple[Callable[[], stoppers.Stopper], int]] = {
    "asha": (lambda: stoppers.ASHA(max_steps=MAX_STEPS), 1),
    "asha (2 objectives)": (lambda: stoppers.ASHA(max_steps=MAX_STEPS), 2),
    "hyperband": (lambda: stoppers.Hyperband(max_steps=MAX_STEPS), 1),
    "median": (lambda: stoppers.Median(max_steps=MAX_STEPS), 1),
    "lce": (lambda: stoppers.LearningCurve(max_steps=MAX_STEPS), 1),
}


def curve(rng: np.random.Generator) -> np.ndarray:
    steps = np.arange(1, MAX_STEPS + 1)
    return rng.uniform(0.1, 1.0) + rng.uniform(0.5, 2) * steps ** -rng.uniform(0.2, 1.5)


def value(c: np.ndarray, step: int, n_obj: int) -> Any:
    v = float(c[step - 1])
    return v if n_obj == 1 else (v, v * v)


def fill(stopper: stoppers.Stopper, n_obj: int, stored: int, seed: int) -> int:
    """Feed curves until ``stored`` reports were made; the next free trial id."""
    rng = np.random.default_rng(seed)
    reports, trial_id = 0, 0
    while reports < stored:
        c = curve(rng)
        for step in range(1, MAX_STEPS + 1):
            reports += 1
            if stopper.report(trial_id, value(c, step, n_obj), step) or reports >= stored:
                break
        trial_id += 1
    return trial_id


def fill_curves(rungs: MemoryRungs, stored: int, seed: int) -> int:
    """What LearningCurve leaves after ``stored`` reports, written directly (its fits are
    what costs, not its records): every trial's curve, and finals for a tenth of them."""
    rng = np.random.default_rng(seed)
    reports, trial_id = 0, 0
    while reports < stored:
        c = curve(rng)
        last = MAX_STEPS if trial_id % 10 == 0 else int(rng.integers(3, 10))
        for step in range(1, min(last, stored - reports) + 1):
            reports += 1
            if step == MAX_STEPS:
                rungs.record("lce", trial_id, MAX_STEPS, [float(c[step - 1])])
            else:
                rungs.record("lce:curve", trial_id, step, [float(c[step - 1])])
        trial_id += 1
    return trial_id


def probe(stopper: stoppers.Stopper, n_obj: int, first_id: int, probes: int) -> list[float]:
    rng = np.random.default_rng(99)
    times: list[float] = []
    trial_id = first_id
    while len(times) < probes:
        c = curve(rng)
        for step in range(1, MAX_STEPS + 1):
            t0 = time.perf_counter()
            stop = stopper.report(trial_id, value(c, step, n_obj), step)
            times.append(time.perf_counter() - t0)
            if stop:
                break
        trial_id += 1
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stored", type=int, default=100_000)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--stoppers", nargs="*", default=list(MAKERS))
    args = ap.parse_args()
    import scipy.special  # noqa: F401 - imported once, before any call is timed

    from hyperhive.storage.redis_rungs import RedisRungs
    from hyperhive.testing.redis_server import RedisServer

    info = machine_info()
    print(f"load average at start: {info.get('loadavg')}")
    rows = []
    with RedisServer() as server, tempfile.TemporaryDirectory() as tmp:
        for name in args.stoppers:
            make, n_obj = MAKERS[name]
            dirs = ["minimize"] * n_obj
            memory = MemoryRungs()
            filler = make()
            filler.setup(dirs, seed=0, rungs=memory)
            if name == "lce":
                next_id = fill_curves(memory, args.stored, seed=0)
                records = list(memory.items())
            elif n_obj > 1:
                # Filling through a several-objective rule reads whole rungs at every
                # decision (quadratic); fill with one objective, then store both values.
                single = make()
                single.setup("minimize", seed=0, rungs=MemoryRungs())
                next_id = fill(single, 1, args.stored, seed=0)
                records = [(k, t, r, (v[0], v[0] * v[0])) for k, t, r, v in single.rungs.items()]
                memory.record_many(records)
            else:
                next_id = fill(filler, n_obj, args.stored, seed=0)
                records = list(memory.items())
            sqlite = SQLiteRungs(Path(tmp) / f"{name.split()[0]}{n_obj}" / "journal.sqlite")
            sqlite.record_many(records)
            redis = RedisRungs(server.url, run=f"cost-{name.split()[0]}{n_obj}")
            redis.record_many(records)
            for store_name, rungs in (("memory", memory), ("sqlite", sqlite), ("redis", redis)):
                stopper = make()
                stopper.setup(dirs, seed=0, rungs=rungs)
                # Several objectives read the whole rung: fewer probes keep the run short.
                times = probe(stopper, n_obj, next_id, args.probes // (10 if n_obj > 1 else 1))
                med = statistics.median(times) * 1e3
                p95 = float(np.percentile(times, 95)) * 1e3
                mean = statistics.fmean(times) * 1e3
                rows.append({"stopper": name, "store": store_name, "records": len(records),
                             "median_ms": med, "p95_ms": p95, "mean_ms": mean,
                             "calls": len(times)})  # fmt: skip
                print(f"{name:22s} {store_name:7s} records={len(records):6d} median={med:.3f} "
                      f"ms mean={mean:.3f} p95={p95:.3f} ms", flush=True)  # fmt: skip
    print(f"\nReport + decision round trip, {args.stored:,} reports stored before\n")
    print("| stopper | store | rung records | median ms | mean ms | p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['stopper']} | {r['store']} | {r['records']:,} | {r['median_ms']:.3f} | "
              f"{r['mean_ms']:.3f} | {r['p95_ms']:.3f} |")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"stopper_cost-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": info, "stored": args.stored, "rows": rows}, indent=1))
    print(f"\nraw numbers: {out}")


if __name__ == "__main__":
    main()
