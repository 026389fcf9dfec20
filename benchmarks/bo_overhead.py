"""Overhead of Bayesian optimization per trial, with an instant objective.

Two measurements per (dimension, trials):

* ``loop``: ``hh.search`` with the default optimizer (``"auto"``: BO) and a
  free objective for the whole budget; mean seconds per trial over the run
  (ask, tell, journal, refits, imports), wall and CPU, and the 95th
  percentile of the wall time between consecutive trial ends;
* ``steady``: a BO told that many random trials first (preloaded through
  ``tell``), then timed over ``--steps`` ask+tell cycles (mean wall and CPU,
  p95 wall), which is the cost per trial once the history has that size.

On a shared machine the wall times grow with the load; the CPU times do not
(much), and approximate the wall times of an idle machine.

Run: ``python benchmarks/bo_overhead.py [--sizes 100 1000 5000] [--dims 2 10]
[--loop-max 1000]``; prints a markdown table.

Variants for quality benchmarks are built through the constructor, e.g.
``hh.optimizers.BO(surrogate="et")``, ``BO(surrogate="gp", acquisition="ei")``,
``BO(liar="qucb")``; surrogates ``"auto" | "gp" | "et" | "rf"``, acquisitions
``"ucb" | "ei" | "pi" | "ts"``, liars ``"believer"`` (default) ``| "min" | "mean" | "max" |
"qucb" | None``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import hyperhive as hh
from hyperhive.optimizers import BO
from hyperhive.trial import Trial, TrialStatus


def sphere(config: dict) -> float:
    return float(sum((v - 0.3) ** 2 for v in config.values()))


def space(dim: int) -> hh.Space:
    return hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(dim)})


def loop(dim: int, n: int, seed: int = 0) -> tuple[float, float, float]:
    """Mean wall and CPU seconds per trial of a whole ``hh.search``; p95 wall between trial ends."""
    ends: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    hh.search(
        sphere,
        space(dim),
        max_evals=n,
        seed=seed,
        callbacks=[lambda trial, state: ends.append(time.perf_counter())],
    )
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    gaps = np.diff([t0, *ends])
    return total / n, cpu / n, float(np.percentile(gaps, 95))


def steady(dim: int, n: int, steps: int, seed: int = 0) -> tuple[float, float, float]:
    """Mean wall, mean CPU and p95 wall seconds per ask+tell of a BO already told ``n`` trials."""
    sp = space(dim)
    opt = BO()
    opt.setup(sp, ["minimize"], seed=seed)
    configs = sp.sample(n, seed)
    opt.tell([Trial(i, c, TrialStatus.DONE, objective=sphere(c)) for i, c in enumerate(configs)])
    opt.ask(1)  # first fit and imports, not timed
    times = []
    c0 = time.process_time()
    for i in range(n, n + steps):
        t0 = time.perf_counter()
        (config,) = opt.ask(1)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=sphere(config))])
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - c0) / steps
    return float(np.mean(times)), cpu, float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 10])
    parser.add_argument("--steps", type=int, default=100, help="timed asks in steady mode")
    parser.add_argument(
        "--loop-max", type=int, default=1000, help="largest size run through hh.search"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"# BO overhead ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpus, load average {load:.1f} at start)\n"
    )
    print(
        "CPU columns are this process's CPU time, close to the wall time of an idle "
        "machine (BLAS runs on one thread); ms per trial.\n"
    )
    print(
        "| dim | trials | loop wall | loop CPU | loop p95 wall | "
        "steady wall | steady CPU | steady p95 wall |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dim in args.dims:
        for n in args.sizes:
            lw = lc = lp = float("nan")
            if n <= args.loop_max:
                lw, lc, lp = loop(dim, n)
            sw, sc, sp = steady(dim, n, args.steps)
            cells = " | ".join(f"{v * 1e3:.1f}" for v in (lw, lc, lp, sw, sc, sp))
            print(f"| {dim} | {n} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
