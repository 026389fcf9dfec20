"""Asynchronous BO with 8 process workers: utilization and best Hartmann6 in 30 s.

Objective: Hartmann6 on [0, 1]^6 plus a sleep of U[0.05, 0.5] s seeded from the
configuration (:func:`common.timed_hartmann`); it returns its own start and end
timestamps. Each method runs for ``--seconds`` of wall time with 8 workers that
are separate processes, in a fresh interpreter per (method, seed):

* ``hyperhive``: ``hh.search(..., workers=8, executor="process", timeout=30)``,
  default optimizer (``"auto"``: BO); timestamps as trial metadata.
* ``cbo``: DeepHyper 0.13.2 ``CBO(problem, random_state=seed)`` (defaults) driven by
  ``search.search(Evaluator.create(..., method="process", num_workers=8), timeout=30)``;
  timestamps as the job's ``metadata``.
* ``tpe``, ``gp``: Optuna's documented multi-process set-up, one study in a
  ``JournalStorage(JournalFileBackend(...))`` and 8 worker processes each running
  ``study.optimize(objective, timeout=...)`` up to the same deadline, with
  ``TPESampler(seed=seed + k)`` / ``GPSampler(seed=seed + k)`` in worker ``k``;
  timestamps as user attributes of the trial.

Utilization: time inside the objective of the trials that returned (their
timestamps), clipped to the window [start of the call, + 30 s], over 8 x 30 s.
The window starts when the method is called (spawning its workers counts).
Best: the lowest Hartmann6 value among trials finished inside the window
(the minimum is -3.32237).

Variants of hyperhive's BO for tuning: ``BO_ASYNC_HH_OPTIONS='{"liar": "qucb"}'`` runs
``hh.optimizers.BO(**options)`` instead of the default.

Run (in ``.venv-bench``, which has Optuna and DeepHyper)::

    .venv-bench/bin/python benchmarks/bo_async.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402

WORKERS = 8
METHODS = ("hyperhive", "cbo", "tpe", "gp")
F_STAR = common.HARTMANN6_MIN
# -- the methods (each in its own interpreter) -------------------------------------------


def run_hyperhive(seconds: float, seed: int, tmp: str) -> dict[str, Any]:
    import hyperhive as hh

    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(6)})
    t_call = time.time()
    options = json.loads(os.environ.get("BO_ASYNC_HH_OPTIONS", "{}"))
    res = hh.search(
        common.hartmann_hyperhive,
        space,
        max_evals=None,
        timeout=seconds,
        workers=WORKERS,
        executor="process",
        seed=seed,
        optimizer=hh.optimizers.BO(**options) if options else "auto",
    )
    t_end = time.time()
    done = [t for t in res.records if t.status == hh.TrialStatus.DONE]
    trials = [(t.metadata["t0"], t.metadata["t1"], float(t.objective)) for t in done]
    return {"t_call": t_call, "t_end": t_end, "trials": trials}


def run_cbo(seconds: float, seed: int, tmp: str) -> dict[str, Any]:
    from deephyper.evaluator import Evaluator
    from deephyper.hpo import CBO, HpProblem

    logging.getLogger("deephyper").setLevel(logging.WARNING)
    problem = HpProblem()
    for i in range(6):
        problem.add_hyperparameter((0.0, 1.0), f"x{i}")
    t_call = time.time()
    evaluator = Evaluator.create(
        common.hartmann_deephyper, method="process", method_kwargs={"num_workers": WORKERS}
    )
    search = CBO(problem, random_state=seed, log_dir=tmp)
    df = search.search(evaluator, timeout=round(seconds))
    t_end = time.time()
    trials = []
    if df is not None:
        for _, row in df.iterrows():
            y = row.get("objective")
            if isinstance(y, int | float) and "m:t0" in row and "m:t1" in row:
                trials.append((float(row["m:t0"]), float(row["m:t1"]), -float(y)))
    return {"t_call": t_call, "t_end": t_end, "trials": trials}


def optuna_objective(trial: Any) -> float:
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
    out = common.timed_hartmann(x)
    trial.set_user_attr("t0", out["t0"])
    trial.set_user_attr("t1", out["t1"])
    return out["objective"]


def optuna_worker(sampler: str, storage_path: str, seed: int, deadline: float) -> None:
    """One Optuna worker process: ``study.optimize`` until ``deadline`` (time.time())."""
    if sampler == "gp":
        common.torch_from_main_env()
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = JournalStorage(JournalFileBackend(storage_path))
    s = (
        optuna.samplers.TPESampler(seed=seed)
        if sampler == "tpe"
        else optuna.samplers.GPSampler(seed=seed)
    )
    study = optuna.load_study(study_name="bo_async", storage=storage, sampler=s)
    study.optimize(optuna_objective, timeout=max(0.0, deadline - time.time()))


def run_optuna(sampler: str, seconds: float, seed: int, tmp: str) -> dict[str, Any]:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    path = os.path.join(tmp, "journal.log")
    storage = JournalStorage(JournalFileBackend(path))
    optuna.create_study(study_name="bo_async", storage=storage)
    t_call = time.time()
    deadline = t_call + seconds
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--optuna-worker",
                sampler,
                path,
                str(seed * 100 + k),
                repr(deadline),
            ],
            env=common.child_env(),
        )
        for k in range(WORKERS)
    ]
    for p in procs:
        p.wait()
    t_end = time.time()
    study = optuna.load_study(study_name="bo_async", storage=storage)
    trials = [
        (t.user_attrs["t0"], t.user_attrs["t1"], float(t.value))
        for t in study.get_trials(deepcopy=False)
        if t.state == optuna.trial.TrialState.COMPLETE and "t0" in t.user_attrs
    ]
    return {"t_call": t_call, "t_end": t_end, "trials": trials}


def child(method: str, seconds: float, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bo-async-") as tmp:
        if method == "hyperhive":
            raw = run_hyperhive(seconds, seed, tmp)
        elif method == "cbo":
            raw = run_cbo(seconds, seed, tmp)
        else:
            raw = run_optuna(method, seconds, seed, tmp)
    w0, w1 = raw["t_call"], raw["t_call"] + seconds
    busy = sum(max(0.0, min(t1, w1) - max(t0, w0)) for t0, t1, _ in raw["trials"])
    inside = [y for _, t1, y in raw["trials"] if t1 <= w1]
    common.emit(
        {
            "method": method,
            "seed": seed,
            "utilization": busy / (WORKERS * seconds),
            "best": min(inside, default=None),
            "n_in_window": len(inside),
            "n_done": len(raw["trials"]),
            "returned_after_s": raw["t_end"] - w0,
        }
    )


# -- driver --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "SECONDS", "SEED"))
    ap.add_argument("--optuna-worker", nargs=4, metavar=("SAMPLER", "PATH", "SEED", "DEADLINE"))
    args = ap.parse_args(argv)
    if args.optuna_worker:
        s, path, seed, deadline = args.optuna_worker
        optuna_worker(s, path, int(seed), float(deadline))
        return
    if args.child:
        child(args.child[0], float(args.child[1]), int(args.child[2]))
        return
    info = common.machine_info()
    results: list[dict[str, Any]] = []
    for seed in range(args.seeds):  # seed-major: an interrupted run has every method
        for method in args.methods:
            cmd = [str(Path(__file__)), "--child", method, str(args.seconds), str(seed)]
            out = common.run_child(cmd, timeout=args.seconds * 6 + 120)
            out.setdefault("method", method)
            out.setdefault("seed", seed)
            results.append(out)
            print(json.dumps(out)[:300], file=sys.stderr, flush=True)
    rows = []
    for method in args.methods:
        ok = [r for r in results if r["method"] == method and "error" not in r]
        rows.append(
            [
                method,
                len(ok),
                common.median(r["utilization"] for r in ok),
                common.spread(r["utilization"] for r in ok),
                common.median(r["best"] - F_STAR for r in ok if r["best"] is not None),
                common.spread(r["best"] - F_STAR for r in ok if r["best"] is not None),
                common.median(r["n_in_window"] for r in ok),
            ]
        )
    print(f"# Asynchronous BO: {WORKERS} process workers, {args.seconds:g} s, Hartmann6 + sleep\n")
    print(common.machine_line(info) + "\n")
    print(
        common.markdown_table(
            [
                "method",
                "seeds",
                "utilization (median)",
                "utilization (min-max)",
                "best - f* (median)",
                "best - f* (min-max)",
                "trials in window (median)",
            ],
            rows,
        )
    )
    print(f"\nbest - f*: the best Hartmann6 value found in the window minus f* = {F_STAR}.")
    errors = [r for r in results if "error" in r]
    for r in errors:
        print(f"\n{r['method']} seed {r['seed']}: {r['error']} {r.get('stderr', '')[-500:]}")
    path = common.write_results("bo_async", {"info": info, "args": vars(args), "runs": results})
    print(f"\nRaw: {path}")


if __name__ == "__main__":
    main()
