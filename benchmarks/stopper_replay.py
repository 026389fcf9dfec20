"""Replay recorded learning curves to measure stoppers: regret against epochs spent.

The curves come from ``benchmarks/stopper_curves.npz`` (recorded once by
``stopper_curves.py``): for each task a few hundred configurations, two training seeds,
27 epochs. A trial is one configuration of the table trained epoch by epoch on one
seed's curve (drawn per trial); the search sees only what that curve reports.

Protocol (BENCHMARKS.md, section 5):

- serial replay (one worker, exact epoch accounting) and 8 workers on a simulated clock
  (every epoch takes one tick; at each tick every busy worker trains one epoch);
- regret at an epoch budget B: the true final value (mean over the table's seeds at the
  last epoch) of the trial with the best *observed* final value among the trials fully
  trained before B epochs were spent, minus the table's best true final value; the
  worst regret in the table when none was fully trained yet;
- budgets of 25%, 50% and 100% of 100 full trainings; 10 seeds; medians;
- methods: no stopping, each stopper, with random search over the table and with
  hyperhive's default optimizer (``"auto"``, through ask/tell; an asked configuration
  is mapped to the nearest untried one of the table), and ``Constant`` at 1 and 3 steps
  followed by full training of the top 3 (``const1+top3``, ``const3+top3``).

The harness drives the optimizer's ask/tell and the stopper's ``report`` directly (the
search loop's ``stopper=`` keyword arrives with the loop integration); a stopped trial
is told with status ``stopped`` and its last reported value, as the loop will record it
(``--tell-stopped done`` tells it as ``done`` instead: today's optimizers use only
``done`` trials, so they learn nothing from ``stopped`` ones).

Usage::

    python benchmarks/stopper_replay.py [--seeds 10] [--optimizers random auto]
        [--workers 1 8] [--methods none asha ...] [--tasks ...]

Prints markdown tables (median regret per budget, and the epoch-1/3/9 rank correlation
of each task) and writes the raw regrets to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import RESULTS, machine_info  # noqa: E402

import hyperhive as hh  # noqa: E402
from hyperhive import stoppers  # noqa: E402
from hyperhive.trial import Trial, TrialStatus  # noqa: E402

CURVES = HERE / "stopper_curves.npz"
#: Tell the optimizer a stopped trial as ``done`` with its last value (``--tell-stopped
#: done``) instead of ``stopped`` (which today's optimizers skip as they skip failures).
TELL_DONE = False
FRACTIONS = (0.25, 0.5, 1.0)
FULL_TRAININGS = 100

STOPPERS: dict[str, Callable[[int], stoppers.Stopper | None]] = {
    "none": lambda e: None,
    "asha": lambda e: stoppers.ASHA(max_steps=e),
    "hyperband": lambda e: stoppers.Hyperband(max_steps=e),
    "median": lambda e: stoppers.Median(max_steps=e),
    "lce": lambda e: stoppers.LearningCurve(max_steps=e),
    "asha-r1": lambda e: stoppers.ASHA(max_steps=e, min_early_stopping_rate=1),
    "asha-r2": lambda e: stoppers.ASHA(max_steps=e, min_early_stopping_rate=2),
    "asha-g3": lambda e: stoppers.ASHA(max_steps=e, guard=3),
    "asha-g1": lambda e: stoppers.ASHA(max_steps=e, guard=1),
    "asha-r1-g3": lambda e: stoppers.ASHA(max_steps=e, min_early_stopping_rate=1, guard=3),
}


class Table:
    """One task's recorded curves."""

    def __init__(self, name: str, data: Any, meta: dict[str, Any]) -> None:
        self.name = name
        self.curves = np.asarray(data[f"{name}/curves"], dtype=float)  # C x seeds x E
        self.params = np.asarray(data[f"{name}/params"], dtype=float)
        self.specs = meta["tasks"][name]["params"]
        self.final = self.curves[:, :, -1].mean(axis=1)
        self.best = float(self.final.min())
        self.worst = float(self.final.max())
        self.n, self.seeds, self.epochs = self.curves.shape
        self.encoded = np.column_stack(
            [self._encode(j, self.params[:, j]) for j in range(self.params.shape[1])]
        )

    def _encode(self, j: int, col: np.ndarray) -> np.ndarray:
        spec = list(self.specs.values())[j]
        if spec[0] == "cat":
            return col / max(len(spec[1]) - 1, 1)
        lo, hi, log = spec[1], spec[2], spec[3]
        if log:
            return (np.log(col) - np.log(lo)) / (np.log(hi) - np.log(lo))
        return (col - lo) / (hi - lo)

    def space(self) -> hh.Space:
        out: dict[str, Any] = {}
        for name, spec in self.specs.items():
            if spec[0] == "cat":
                out[name] = hh.Categorical(list(spec[1]))
            elif spec[0] == "int":
                out[name] = hh.Int(int(spec[1]), int(spec[2]), log=bool(spec[3]))
            else:
                out[name] = hh.Float(float(spec[1]), float(spec[2]), log=bool(spec[3]))
        return hh.Space(out)

    def row_of(self, config: dict[str, Any], used: set[int]) -> int:
        """The untried row nearest to ``config`` (in the normalized encoding)."""
        vec = []
        for j, (name, spec) in enumerate(self.specs.items()):
            v = config[name]
            raw = float(spec[1].index(v)) if spec[0] == "cat" else float(v)
            vec.append(self._encode(j, np.array([raw]))[0])
        d = np.sum((self.encoded - np.asarray(vec)) ** 2, axis=1)
        if used:
            d[list(used)] = np.inf
        return int(np.argmin(d))

    def config(self, row: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for j, (name, spec) in enumerate(self.specs.items()):
            v = self.params[row, j]
            out[name] = spec[1][int(v)] if spec[0] == "cat" else float(v)
        return out


class Proposer:
    """Random rows of the table, or hyperhive's default optimizer mapped onto it."""

    def __init__(self, table: Table, kind: str, seed: int) -> None:
        self.table, self.kind = table, kind
        self.rng = np.random.default_rng([seed, 17])
        self.order = list(self.rng.permutation(table.n))
        self.used: set[int] = set()
        self.opt = None
        if kind != "random":
            self.opt = hh.optimizers.get_optimizer(kind, seed=seed)
            self.opt.setup(table.space(), ["minimize"], seed=seed)

    def ask(self, pending: list[Trial]) -> int | None:
        if len(self.used) >= self.table.n:
            return None
        if self.opt is None:
            while self.order[0] in self.used:
                self.order.pop(0)
            row = int(self.order.pop(0))
        else:
            config = self.opt.ask(1, pending=pending)[0]
            row = self.table.row_of(config, self.used)
        self.used.add(row)
        return row

    def tell(self, trial: Trial) -> None:
        if self.opt is not None:
            self.opt.tell([trial])


def replay(
    table: Table, kind: str, stopper: stoppers.Stopper | None, workers: int, seed: int
) -> list[tuple[int, float, int]]:
    """Run one search; the fully trained trials as (epochs spent, observed final, row)."""
    budget = FULL_TRAININGS * table.epochs
    prop = Proposer(table, kind, seed)
    draw = np.random.default_rng([seed, 29])
    if stopper is not None:
        stopper.setup("minimize", seed=seed, max_steps=table.epochs)
    slots: list[dict[str, Any] | None] = [None] * workers
    spent, next_id, done = 0, 0, []
    exhausted = False
    while spent < budget:
        busy = False
        for w in range(workers):
            if slots[w] is None and not exhausted:
                pending = [s["trial"] for s in slots if s is not None]
                row = prop.ask(pending)
                if row is None:
                    exhausted = True
                    continue
                trial = Trial(id=next_id, config=table.config(row), status=TrialStatus.RUNNING)
                slots[w] = {"row": row, "seed": int(draw.integers(table.seeds)), "step": 0,
                            "trial": trial}  # fmt: skip
                next_id += 1
            slot = slots[w]
            if slot is None:
                continue
            busy = True
            slot["step"] += 1
            spent += 1
            step = slot["step"]
            value = float(table.curves[slot["row"], slot["seed"], step - 1])
            stop = stopper is not None and stopper.report(slot["trial"].id, value, step)
            if stop or step >= table.epochs:
                trial = slot["trial"]
                trial.status = TrialStatus.STOPPED if stop and not TELL_DONE else TrialStatus.DONE
                trial.objective = value
                prop.tell(trial)
                if not stop:
                    done.append((spent, value, slot["row"]))
                slots[w] = None
            if spent >= budget:
                break
        if not busy:
            break
    return done


def regret_at(table: Table, done: list[tuple[int, float, int]], budget: int) -> float:
    seen = [(v, r) for s, v, r in done if s <= budget]
    if not seen:
        return table.worst - table.best
    _, row = min(seen)
    return float(table.final[row] - table.best)


def constant_top(table: Table, steps: int, budget: int, seed: int, top: int = 3) -> float:
    """Train random candidates ``steps`` epochs, then the ``top`` best fully, within ``budget``."""
    rng = np.random.default_rng([seed, 17])
    n = min(table.n, max(top, (budget - top * (table.epochs - steps)) // steps))
    rows = rng.permutation(table.n)[:n]
    seeds = np.random.default_rng([seed, 29]).integers(table.seeds, size=n)
    early = table.curves[rows, seeds, steps - 1]
    best = np.argsort(early, kind="stable")[:top]
    finals = table.curves[rows[best], seeds[best], -1]
    return float(table.final[rows[best][int(np.argmin(finals))]] - table.best)


def rank_correlations(table: Table) -> dict[int, float]:
    from scipy.stats import spearmanr

    mean = table.curves.mean(axis=1)
    out = {e: float(spearmanr(mean[:, e - 1], mean[:, -1])[0]) for e in (1, 3, 9)}
    # Where the final top 10 stood after 1 and 3 epochs (median percentile; 0 = best).
    top = np.argsort(mean[:, -1], kind="stable")[:10]
    for e in (1, 3):
        pct = np.argsort(np.argsort(mean[:, e - 1], kind="stable"), kind="stable") / table.n
        out[-e] = float(np.median(pct[top]) * 100)
    return out


_TABLES: dict[str, Table] = {}


def _one(job: tuple[str, int, str, str, int]) -> list[float]:
    """Regrets at each budget of one search (a job of the pool)."""
    task, workers, kind, method, seed = job
    table = _TABLES[task]
    budgets = [int(f * FULL_TRAININGS * table.epochs) for f in FRACTIONS]
    if method.startswith("const"):
        steps = int(method[5 : method.index("+")])
        return [constant_top(table, steps, b, seed) for b in budgets]
    done = replay(table, kind, STOPPERS[method](table.epochs), workers, seed)
    return [regret_at(table, done, b) for b in budgets]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--curves", type=Path, default=CURVES)
    ap.add_argument("--jobs", type=int, default=1, help="processes (fork)")
    ap.add_argument("--tell-stopped", choices=["stopped", "done"], default="stopped")
    ap.add_argument("--tasks", nargs="*", default=None)
    ap.add_argument("--optimizers", nargs="*", default=["random", "auto"])
    ap.add_argument("--workers", nargs="*", type=int, default=[1, 8])
    ap.add_argument("--methods", nargs="*", default=[*STOPPERS, "const1+top3", "const3+top3"])
    args = ap.parse_args()
    global TELL_DONE
    TELL_DONE = args.tell_stopped == "done"
    with np.load(args.curves) as data:
        meta = json.loads(str(data["meta"]))
        tables = [Table(t, data, meta) for t in (args.tasks or meta["tasks"])]
    info = machine_info()
    print(f"load average at start: {info.get('loadavg')}")
    rows: list[dict[str, Any]] = []
    print("\n| task | metric | best final | rank corr. epoch 1 / 3 / 9 vs 27 "
          "| final top 10: median percentile at epoch 1 / 3 |")  # fmt: skip
    print("| --- | --- | --- | --- | --- |")
    for table in tables:
        rc = rank_correlations(table)
        metric = meta["tasks"][table.name]["metric"]
        corr = f"{rc[1]:.2f} / {rc[3]:.2f} / {rc[9]:.2f}"
        print(f"| {table.name} | {metric} | {table.best:.4f} | {corr} | "
              f"{rc[-1]:.0f}% / {rc[-3]:.0f}% |")  # fmt: skip
    jobs = []
    for table in tables:
        for workers in args.workers:
            for kind in args.optimizers:
                for method in args.methods:
                    if method.startswith("const") and (kind != "random" or workers != 1):
                        continue
                    jobs += [(table.name, workers, kind, method, s) for s in range(args.seeds)]
    global _TABLES
    _TABLES = {t.name: t for t in tables}
    if args.jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            flat = []
            for job, regrets in zip(jobs, pool.imap(_one, jobs), strict=True):
                flat.append(regrets)
                print(*job, *(f"{r:.4f}" for r in regrets), flush=True)
    else:
        flat = []
        for job in jobs:
            flat.append(_one(job))
            print(*job, *(f"{r:.4f}" for r in flat[-1]), flush=True)
    grouped: dict[tuple[str, int, str, str], list[list[float]]] = {}
    for job, regrets in zip(jobs, flat, strict=True):
        grouped.setdefault(job[:4], []).append(regrets)
    for (task, workers, kind, method), regrets in grouped.items():
        med = [statistics.median(r[i] for r in regrets) for i in range(len(FRACTIONS))]
        rows.append({"task": task, "workers": workers, "optimizer": kind, "method": method,
                     "median": med, "regrets": regrets})  # fmt: skip
    print("\nMedian regret at 25% / 50% / 100% of 100 full trainings (lower is better)\n")
    print("| task | workers | optimizer | method | 25% | 50% | 100% |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        m = r["median"]
        print(f"| {r['task']} | {r['workers']} | {r['optimizer']} | {r['method']} | "
              f"{m[0]:.4f} | {m[1]:.4f} | {m[2]:.4f} |")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"stopper_replay-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    print(f"\nraw numbers: {out}")


if __name__ == "__main__":
    main()
