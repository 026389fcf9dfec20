"""Simulated scale: worker utilization at 64 to 4,096 workers, centralized and decentralized.

A discrete-event simulation (:mod:`hyperhive.simulate`) on a simulated clock: trial
durations log-normal (median 60 s, sigma 0.5), a 6-hour horizon, store operations
charged at ``--store-latency`` per round trip plus the store server's own time, and
the optimizer's real compute time (CPU time of all threads, measured on this machine
with the workers' trials pending; see ``CostProfile``) charged to the driver's or
peer's clock. Decentralized runs use peers of ``--workers-per-peer`` workers.

    python benchmarks/scale.py [--workers 64,256,1024,4096] [--optimizers random,bo]

BO is ``optimizer="bo"`` when it is registered; otherwise the table says so and
uses random search alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from typing import Any

from hyperhive.optimizers import get_optimizer
from hyperhive.simulate import CostProfile, simulate

HEAD = (
    "optimizer",
    "workers",
    "mode",
    "peers",
    "utilization",
    "driver/peer busy",
    "store util",
    "mean wait (s)",
    "trials",
    "bottleneck",
)


def _available(name: str) -> bool:
    try:
        get_optimizer(name)
    except (KeyError, ValueError, ImportError):
        return False
    return True


def _row(r: Any) -> tuple[Any, ...]:
    return (
        r.optimizer,
        r.workers,
        r.mode,
        r.peers,
        f"{100 * r.utilization:.2f} %",
        f"{100 * r.server_busy:.1f} %",
        f"{100 * r.store_utilization:.2f} %",
        f"{r.mean_wait:.3f}",
        f"{r.trials:,}",
        r.bottleneck,
    )


def _print_table(rows: list[tuple[Any, ...]]) -> None:
    print("| " + " | ".join(HEAD) + " |")
    print("|" + "---|" * len(HEAD))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def _shares(r: Any) -> str:
    return ", ".join(f"{k} {100 * v:.0f} %" for k, v in r.wait_share.items())


def _verdicts(results: list[Any]) -> list[str]:
    """Where each (optimizer, mode) stops scaling (below 95 %), and why."""
    lines = []
    keys = sorted({(r.optimizer, r.mode) for r in results})
    for opt, mode in keys:
        runs = sorted(
            (r for r in results if (r.optimizer, r.mode) == (opt, mode)), key=lambda r: r.workers
        )
        ok = [r.workers for r in runs if r.utilization >= 0.95]
        bad = [r for r in runs if r.utilization < 0.95]
        top = runs[-1]
        if not bad:
            load = top.server_busy if mode == "centralized" else top.store_utilization
            what = "driver" if mode == "centralized" else "store"
            # Both grow about as workers squared: the trial rate grows with the workers,
            # and so does each trial's cost (asks see every running trial as pending;
            # every peer reads every event).
            reach = top.workers / math.sqrt(load) if load > 0 else math.inf
            lines.append(
                f"- {opt}, {mode}: >= 95 % up to {top.workers:,} workers (the largest simulated); "
                f"the {what} is {100 * load:.1f} % busy there; growing as workers squared, it "
                f"saturates near {reach:,.0f} workers."
            )
        else:
            first = bad[0]
            lines.append(
                f"- {opt}, {mode}: >= 95 % up to {max(ok, default=0):,} workers; at "
                f"{first.workers:,} it reaches {100 * first.utilization:.1f} %: the "
                f"{first.bottleneck} is the bottleneck (driver/peer busy "
                f"{100 * first.server_busy:.0f} %, store {100 * first.store_utilization:.0f} %, "
                f"wait per trial {first.mean_wait:.2f} s: {_shares(first)})."
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="64,256,1024,4096")
    parser.add_argument("--optimizers", default="random,bo")
    parser.add_argument("--horizon", type=float, default=6 * 3600.0)
    parser.add_argument("--workers-per-peer", type=int, default=16)
    parser.add_argument("--store-latency", type=float, default=0.5e-3)
    parser.add_argument("--store-service", type=float, default=25e-6)
    parser.add_argument("--event-cost", type=float, default=0.5e-6)
    parser.add_argument(
        "--validate", type=int, default=64, help="workers of the live check (0: none)"
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    sizes = [int(w) for w in args.workers.split(",")]
    optimizers, notes = [], []
    for name in args.optimizers.split(","):
        if _available(name):
            optimizers.append(name)
        else:
            notes.append(
                f"{name!r} is not registered here; its rows are missing (random search only)"
            )
    common = dict(
        horizon=args.horizon,
        store_latency=args.store_latency,
        store_service=args.store_service,
        event_cost=args.event_cost,
    )
    mean = 60.0 * math.exp(0.5**2 / 2.0)
    print(
        f"# simulated scale: {args.horizon / 3600:g} h horizon, log-normal trials (median 60 s, "
        f"sigma 0.5), store latency {args.store_latency * 1e3:g} ms "
        f"+ {args.store_service * 1e6:g} us per op + {args.event_cost * 1e6:g} us per event read, "
        f"{args.workers_per_peer} workers per peer"
    )
    print(
        f"# machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    for note in notes:
        print(f"# NOTE: {note}")
    sys.stdout.flush()
    results, rows, profiles = [], [], {}
    for opt in optimizers:
        for w in sizes:
            t0 = time.perf_counter()
            max_n = int(w * (1.0 + 1.2 * args.horizon / mean))
            profile = CostProfile.measure(opt, pending=w - 1, max_n=max_n)
            profiles[(opt, w)] = profile
            print(
                f"# profiled {opt} at {w} pending up to {max_n:,} results in "
                f"{time.perf_counter() - t0:.0f} s; at the largest history: ask(1) "
                f"{1e3 * profile.ask_cost(max_n, 1):.1f} ms, ask(16) "
                f"{1e3 * profile.ask_cost(max_n, 16):.1f} ms, "
                f"refit {profile.refit_cost(max_n):.2f} s",
                flush=True,
            )
            for mode in ("centralized", "decentralized"):
                r = simulate(
                    w,
                    mode=mode,
                    optimizer=opt,
                    costs=profile,
                    workers_per_peer=args.workers_per_peer,
                    **common,
                )
                results.append(r)
                rows.append(_row(r))
                print(
                    "  " + " | ".join(str(c) for c in rows[-1]) + f"  ({r.wall:.0f} s)", flush=True
                )
    if "random" in optimizers and sizes:
        w = sizes[-1]
        prof = profiles[("random", w)]
        r = simulate(
            w, mode="decentralized", optimizer="random", costs=prof, workers_per_peer=1, **common
        )
        extra = _row(r)
        print("  " + " | ".join(str(c) for c in extra) + "  (one worker per peer)", flush=True)
    print()
    _print_table(rows)
    if "random" in optimizers and sizes:
        print(f"\nOne worker per peer ({sizes[-1]:,} peers reading every event):\n")
        _print_table([extra])
    print("\nWhere each mode stops scaling:\n")
    for line in _verdicts(results):
        print(line)
    check = None
    if args.validate and optimizers:
        opt = optimizers[-1]
        kw = dict(common, horizon=min(args.horizon, 1800.0))
        live = simulate(args.validate, optimizer=opt, costs="live", samples=None, **kw)
        prof = simulate(args.validate, optimizer=opt, costs="profile", **kw)
        check = {"live": live.row(), "profile": prof.row()}
        print(
            f"\nProfile check ({opt}, {args.validate} workers, centralized, "
            f"{kw['horizon']:g} s): every ask measured live: utilization "
            f"{100 * live.utilization:.2f} %, driver busy {100 * live.server_busy:.1f} %; "
            f"interpolated profile: {100 * prof.utilization:.2f} %, "
            f"{100 * prof.server_busy:.1f} %."
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"results": [r.row() for r in results], "check": check, "notes": notes}, f, indent=2
            )


if __name__ == "__main__":
    sys.exit(main())
