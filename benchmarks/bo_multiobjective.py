"""Multi-objective quality: hypervolume after 200 evaluations on ZDT1 and DTLZ2.

Problems (:mod:`problems`, two objectives, both minimized): ZDT1 (30-D on
[0, 1]) with reference point (1.1, 11), DTLZ2 (11-D on [0, 1]) with reference
point (1.1, 1.1). The hypervolume of every evaluated point (the same function,
:func:`hyperhive.search.pareto.hypervolume`, for every method) after ``--evals``
evaluations, median over seeds, beside that of the true front (a dense sample).

Methods, sequential, through their user-facing APIs with defaults:

* ``hyperhive``: ``hh.search(f, space, direction=["minimize", "minimize"],
  max_evals=200, seed=seed)`` (default optimizer, ``"auto"``);
* ``nsga2``: ``optuna.create_study(directions=[...], sampler=NSGAIISampler(seed=seed))``;
* ``tpe``: the same with ``TPESampler(seed=seed)``;
* ``cbo``: DeepHyper 0.13.2 ``CBO(problem, random_state=seed)`` (defaults: its
  multi-objective mode scalarizes, ``moo_scalarization_strategy="Chebyshev"``),
  ask/tell, told ``(-f1, -f2)`` (it maximizes);
* ``random``: hyperhive's random search (a floor).

Run::

    .venv-bench/bin/python benchmarks/bo_multiobjective.py --seeds 5 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from problems import MO_PROBLEMS, front  # noqa: E402

CACHE = Path(os.environ.get("BO_MO_CACHE", HERE / "results" / "bo_multiobjective"))
METHODS = ("hyperhive", "nsga2", "tpe", "cbo", "random")


def run_hyperhive(problem: str, seed: int, evals: int, optimizer: str) -> list[tuple]:
    import hyperhive as hh

    p = MO_PROBLEMS[problem]
    res = hh.search(
        p.fn,
        p.space,
        direction=["minimize", "minimize"],
        optimizer=optimizer,
        max_evals=evals,
        seed=seed,
    )
    return [
        tuple(float(v) for v in t.objective) for t in res.records if t.status == hh.TrialStatus.DONE
    ]


def run_optuna(problem: str, seed: int, evals: int, sampler: str) -> list[tuple]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore")
    p = MO_PROBLEMS[problem]
    s = (
        optuna.samplers.NSGAIISampler(seed=seed)
        if sampler == "nsga2"
        else optuna.samplers.TPESampler(seed=seed)
    )
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=s)

    def objective(trial: Any) -> tuple:
        return p.fn({q.name: trial.suggest_float(q.name, q.low, q.high) for q in p.params})

    study.optimize(objective, n_trials=evals)
    return [tuple(t.values) for t in study.trials if t.values is not None]


def run_cbo(problem: str, seed: int, evals: int, deadline: float) -> list[tuple]:
    from deephyper.hpo import CBO, HpProblem

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    p = MO_PROBLEMS[problem]
    hp = HpProblem()
    for q in p.params:
        hp.add_hyperparameter((float(q.low), float(q.high)), q.name)
    out = []
    with tempfile.TemporaryDirectory() as log_dir:
        search = CBO(hp, random_state=seed, log_dir=log_dir, checkpoint_history_to_csv=False)
        for i in range(evals):
            if time.time() > deadline:
                raise TimeoutError(f"out of budget after {i} evaluations")
            (config,) = search.ask(1)
            y = p.fn({q.name: float(config[q.name]) for q in p.params})
            search.tell([(config, tuple(-v for v in y))])
            out.append(tuple(y))
    return out


def run_one(args: tuple) -> dict[str, Any]:
    method, problem, seed, evals, deadline = args
    path = CACHE / method / problem / f"{seed}.json"
    if path.exists():
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec["evals"] >= evals:
            return rec
    if time.time() > deadline:
        return {"method": method, "problem": problem, "seed": seed, "error": "not run (budget)"}
    t0 = time.perf_counter()
    try:
        if method in ("hyperhive", "random"):
            pts = run_hyperhive(problem, seed, evals, "auto" if method == "hyperhive" else method)
        elif method == "cbo":
            pts = run_cbo(problem, seed, evals, deadline)
        else:
            pts = run_optuna(problem, seed, evals, method)
    except Exception as exc:  # noqa: BLE001 - reported in the table
        return {"method": method, "problem": problem, "seed": seed, "error": repr(exc)}
    rec = {
        "method": method,
        "problem": problem,
        "seed": seed,
        "evals": evals,
        "points": pts,
        "seconds": time.perf_counter() - t0,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rec), encoding="utf-8")
    return rec


def hv(points: Sequence[Sequence[float]], ref: Sequence[float]) -> float:
    from hyperhive.search.pareto import hypervolume

    return hypervolume([p for p in points if all(map(_finite, p))], ref)


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cbo-seeds", type=int, default=None, help="default: --seeds")
    ap.add_argument("--evals", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--budget-minutes", type=float, default=60.0)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--problems", nargs="+", default=list(MO_PROBLEMS))
    args = ap.parse_args(argv)
    info = common.machine_info()
    cbo_seeds = args.seeds if args.cbo_seeds is None else args.cbo_seeds
    deadline = time.time() + args.budget_minutes * 60
    tasks = sorted(
        (
            (m, p, s, args.evals, deadline)
            for s in range(args.seeds)
            for m in args.methods
            for p in args.problems
            if m != "cbo" or s < cbo_seeds
        ),
        key=lambda t: (t[0] == "cbo", t[2]),  # CBO (slow) last
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        recs = list(pool.map(run_one, tasks))
    rows = []
    for p in args.problems:
        ref = MO_PROBLEMS[p].ref
        row: list[Any] = [f"{p} ref {ref}", common.fmt(hv(front(p), ref), 4)]
        for m in args.methods:
            ok = [r for r in recs if r["method"] == m and r["problem"] == p and "points" in r]
            vals = [hv(r["points"][: args.evals], ref) for r in ok]
            cell = common.fmt(common.median(vals), 4) if vals else "-"
            if ok and len(ok) < args.seeds:
                cell += f" ({len(ok)})"
            row.append(cell)
        rows.append(row)
    print(f"# Multi-objective: hypervolume after {args.evals} evaluations (median of seeds)\n")
    print(common.machine_line(info) + "\n")
    print(common.markdown_table(["problem, reference point", "true front", *args.methods], rows))
    print(f"\n{args.seeds} seeds; a number in parentheses: seeds run when fewer.")
    secs = {
        m: common.median(r.get("seconds", float("nan")) for r in recs if r["method"] == m)
        for m in args.methods
    }
    print("Median seconds per run: " + ", ".join(f"{m} {common.fmt(v)}" for m, v in secs.items()))
    for r in recs:
        if "error" in r:
            print(f"\n{r['method']} {r['problem']} seed {r['seed']}: {r['error']}")
    path = common.write_results(
        "bo_multiobjective",
        {"info": info, "args": vars(args), "runs": [{k: v for k, v in r.items()} for r in recs]},
    )
    print(f"\nRaw: {path} (points: {CACHE})")


if __name__ == "__main__":
    main()
