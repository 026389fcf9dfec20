"""Cost of the next suggestions with a preloaded history: hyperhive BO against the peers.

For each method, dimension (``--dims``, default 2 and 10) and history size (``--sizes``,
default 100, 1,000 and 5,000), a fresh interpreter preloads that many random trials of
the sphere function on ``[0, 1]^d`` through the method's documented API, then times
the next ``--steps`` ask + tell cycles (instant objective):

* ``hyperhive``: ``hh.optimizers.BO()`` (the default), history given with ``tell``
  (serial use: refits inline, on the suggestion path);
* ``tpe``, ``gp``: Optuna 5.0.0 ``TPESampler()`` / ``GPSampler()``, history given with
  ``study.add_trials`` (``optuna.trial.create_trial``), then ``study.ask`` /
  ``study.tell``;
* ``cbo``: DeepHyper 0.13.2 ``CBO(problem)`` with its defaults, history given with
  ``CBO.fit_surrogate(df)`` (its checkpoint format), then ``CBO.ask(1)`` /
  ``CBO.tell``.

Reported per cell: mean and 95th-percentile wall seconds per ask + tell, and the mean
CPU seconds of the whole process (all threads: Optuna's GP runs torch on several).
A cell stops after ``--cell-seconds`` (default 120) once at least one step is timed;
the number of timed steps is shown.

Run (in ``.venv-bench``; Optuna's GPSampler needs torch, taken from ``.venv`` if
missing)::

    .venv-bench/bin/python benchmarks/bo_overhead_peers.py [--methods hyperhive gp cbo tpe]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    machine_info,
    machine_line,
    markdown_table,
    torch_from_main_env,
    write_results,
)

METHODS = ("hyperhive", "tpe", "gp", "cbo")


def sphere(x: list[float]) -> float:
    return float(sum((v - 0.3) ** 2 for v in x))


def history(dim: int, n: int, seed: int = 0) -> list[list[float]]:
    import numpy as np

    return np.random.default_rng(seed).random((n, dim)).tolist()


# -- one cell, in a child interpreter ------------------------------------------------------


class Hyperhive:
    def __init__(self, dim: int, rows: list[list[float]]) -> None:
        import hyperhive as hh
        from hyperhive.trial import Trial, TrialStatus

        self.Trial, self.Status = Trial, TrialStatus
        self.names = [f"x{i}" for i in range(dim)]
        self.opt = hh.optimizers.BO()
        self.opt.setup(hh.Space({n: hh.Float(0.0, 1.0) for n in self.names}), ["minimize"], 0)
        told = [
            Trial(i, dict(zip(self.names, r, strict=True)), TrialStatus.DONE, objective=sphere(r))
            for i, r in enumerate(rows)
        ]
        self.opt.tell(told)
        self.n = len(rows)

    def step(self) -> None:
        (config,) = self.opt.ask(1)
        x = [config[n] for n in self.names]
        self.opt.tell([self.Trial(self.n, config, self.Status.DONE, objective=sphere(x))])
        self.n += 1


class Optuna:
    def __init__(self, method: str, dim: int, rows: list[list[float]]) -> None:
        if method == "gp":
            torch_from_main_env()
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore")
        sampler = optuna.samplers.TPESampler() if method == "tpe" else optuna.samplers.GPSampler()
        self.study = optuna.create_study(sampler=sampler)
        self.names = [f"x{i}" for i in range(dim)]
        dist = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in self.names}
        made = [
            optuna.trial.create_trial(
                params=dict(zip(self.names, r, strict=True)), distributions=dist, value=sphere(r)
            )
            for r in rows
        ]
        self.study.add_trials(made)

    def step(self) -> None:
        trial = self.study.ask()
        x = [trial.suggest_float(n, 0.0, 1.0) for n in self.names]
        self.study.tell(trial, sphere(x))


class DeepHyper:
    def __init__(self, dim: int, rows: list[list[float]]) -> None:
        import logging

        import pandas as pd
        from deephyper.hpo import CBO, HpProblem

        warnings.filterwarnings("ignore")
        logging.disable(logging.WARNING)
        problem = HpProblem()
        self.names = [f"x{i}" for i in range(dim)]
        for n in self.names:
            problem.add_hyperparameter((0.0, 1.0), n)
        self._dir = tempfile.TemporaryDirectory()
        self.search = CBO(problem, log_dir=self._dir.name, checkpoint_history_to_csv=False)
        df = pd.DataFrame({f"p:{n}": [r[i] for r in rows] for i, n in enumerate(self.names)})
        df["objective"] = [-sphere(r) for r in rows]  # DeepHyper maximizes
        self.search.fit_surrogate(df)

    def step(self) -> None:
        (config,) = self.search.ask(1)
        x = [float(config[n]) for n in self.names]
        self.search.tell([(config, -sphere(x))])


def child(method: str, dim: int, n: int, steps: int, budget: float) -> dict[str, Any]:
    rows = history(dim, n)
    t0 = time.perf_counter()
    if method == "hyperhive":
        searcher: Any = Hyperhive(dim, rows)
    elif method in ("tpe", "gp"):
        searcher = Optuna(method, dim, rows)
    else:
        searcher = DeepHyper(dim, rows)
    preload = time.perf_counter() - t0
    searcher.step()  # first call: imports, first fit; not timed
    times: list[float] = []
    c0, start = time.process_time(), time.perf_counter()
    while len(times) < steps and time.perf_counter() - start < budget:
        t = time.perf_counter()
        searcher.step()
        times.append(time.perf_counter() - t)
    cpu = (time.process_time() - c0) / len(times)
    times.sort()
    return {
        "method": method,
        "dim": dim,
        "n": n,
        "steps": len(times),
        "mean_s": sum(times) / len(times),
        "p95_s": times[min(len(times) - 1, int(0.95 * len(times)))],
        "cpu_s": cpu,
        "preload_s": preload,
    }


# -- driver ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 10])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cell-seconds", type=float, default=120.0)
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "DIM", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        method, dim, n = args.child[0], int(args.child[1]), int(args.child[2])
        out = child(method, dim, n, args.steps, args.cell_seconds)
        print("RESULT " + json.dumps(out), flush=True)
        return
    info = machine_info()
    cells = []
    for dim in args.dims:
        for n in args.sizes:
            for method in args.methods:
                cmd = [sys.executable, __file__, "--child", method, str(dim), str(n)]
                cmd += ["--steps", str(args.steps), "--cell-seconds", str(args.cell_seconds)]
                try:
                    proc = subprocess.run(
                        cmd, capture_output=True, text=True,
                        timeout=args.cell_seconds * 4 + 600,
                    )  # fmt: skip
                    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                    cell = json.loads(lines[-1][7:]) if lines else {"error": proc.stderr[-500:]}
                except subprocess.TimeoutExpired:
                    cell = {"error": "timed out"}
                cell.update(method=method, dim=dim, n=n)
                cells.append(cell)
                print(json.dumps(cell), file=sys.stderr, flush=True)
    rows = []
    for c in cells:
        if "error" in c:
            rows.append([c["dim"], c["n"], c["method"], "-", "-", "-", "-", c["error"][-60:]])
            continue
        rows.append(
            [c["dim"], c["n"], c["method"], c["steps"], f"{c['mean_s'] * 1e3:,.1f}",
             f"{c['p95_s'] * 1e3:,.1f}", f"{c['cpu_s'] * 1e3:,.1f}", f"{c['preload_s']:.1f}"]
        )  # fmt: skip
    print("# Next-suggestion cost with a preloaded history (ms per ask + tell)\n")
    print(machine_line(info) + "\n")
    header = ["dim", "history", "method", "steps", "mean wall", "p95 wall", "CPU (all threads)"]
    print(markdown_table([*header, "preload s"], rows))
    path = write_results("bo_overhead_peers", {"info": info, "cells": cells})
    print(f"\nRaw: {path}")


if __name__ == "__main__":
    main()
