"""Loop throughput: random search on an instant objective, hyperhive against Optuna and DeepHyper.

Every configuration runs in a fresh interpreter, ``--reps`` times (interleaved), and
the table shows medians. "driver CPU ms/trial" is the CPU time of the driver process
(all its threads; not the worker processes of a process executor) per trial: less
sensitive than wall time to other load on a shared machine. Steady state is measured
from the trials' finish timestamps (the ``--steady-from``-th to the last finished
trial); start-up is the time from the call (framework objects created inside the timed
region) to the first finished trial.

    python benchmarks/throughput.py [--trials 2000] [--reps 3] [--only hh-thread-sqlite,...]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import tempfile
import time
from typing import Any

import common

WORKERS = 8

#: name -> (framework, description, settings)
CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "hh-serial-memory": ("hyperhive", "serial, in memory", {"executor": "serial", "store": None}),
    "hh-serial-sqlite": ("hyperhive", "serial, SQLite", {"executor": "serial", "store": "sqlite"}),
    "hh-thread-memory": (
        "hyperhive",
        "thread x8, in memory",
        {"executor": "thread", "store": None},
    ),
    "hh-thread-sqlite": (
        "hyperhive",
        "thread x8, SQLite",
        {"executor": "thread", "store": "sqlite"},
    ),
    "hh-process-sqlite": (
        "hyperhive",
        "process x8, SQLite",
        {"executor": "process", "store": "sqlite"},
    ),
    "hh-process-memory": (
        "hyperhive",
        "process x8, in memory",
        {"executor": "process", "store": None},
    ),
    "optuna-sqlite": ("optuna", "RandomSampler, n_jobs=8, SQLite", {"storage": "sqlite"}),
    "optuna-memory": ("optuna", "RandomSampler, n_jobs=8, in memory", {"storage": None}),
    "deephyper-thread": ("deephyper", "RandomSearch, thread evaluator x8", {"method": "thread"}),
}


# -- one run (in a child interpreter) -------------------------------------------------


def run_hyperhive(settings: dict[str, Any], n: int, seed: int, tmp: str) -> dict[str, Any]:
    import hyperhive as hh

    executor = settings["executor"]
    workers = 1 if executor == "serial" else WORKERS
    run_dir = os.path.join(tmp, "run") if settings["store"] == "sqlite" else None
    t_call = time.time()
    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(common.DIM)})
    res = hh.search(
        common.instant,
        space,
        max_evals=n,
        workers=workers,
        executor=executor,
        run_dir=run_dir,
        optimizer="random",
        seed=seed,
    )
    t_end = time.time()
    done = [t for t in res.records if t.status == hh.TrialStatus.DONE]
    return {
        "t_call": t_call,
        "t_end": t_end,
        "finished": [t.finished for t in done],
        "n_done": len(done),
        "n_records": len(res.records),
    }


def run_optuna(settings: dict[str, Any], n: int, seed: int, tmp: str) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{tmp}/optuna.db" if settings["storage"] == "sqlite" else None
    t_call = time.time()
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(common.instant_optuna, n_trials=n, n_jobs=WORKERS)
    t_end = time.time()
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    return {
        "t_call": t_call,
        "t_end": t_end,
        "finished": [t.datetime_complete.timestamp() for t in done],
        "n_done": len(done),
        "n_records": len(trials),
    }


def run_deephyper(settings: dict[str, Any], n: int, seed: int, tmp: str) -> dict[str, Any]:
    from deephyper.evaluator import Evaluator
    from deephyper.hpo import HpProblem, RandomSearch

    logging.getLogger("deephyper").setLevel(logging.WARNING)
    t_call = time.time()
    t_call_mono = time.monotonic()
    problem = HpProblem()
    for i in range(common.DIM):
        problem.add_hyperparameter((0.0, 1.0), f"x{i}")
    evaluator = Evaluator.create(
        common.instant_deephyper,
        method=settings["method"],
        method_kwargs={"num_workers": WORKERS},
    )
    search = RandomSearch(problem, random_state=seed, log_dir=tmp)
    df = search.search(evaluator, max_evals=n)
    t_end = time.time()
    # m:timestamp_gather is time.monotonic() - evaluator.timestamp, taken in the driver
    offset = evaluator.timestamp - t_call_mono
    gathered = [t_call + offset + float(g) for g in df["m:timestamp_gather"]]
    ok = df["objective"].map(lambda v: isinstance(v, int | float)).to_numpy()
    return {
        "t_call": t_call,
        "t_end": t_end,
        "finished": [g for g, good in zip(gathered, ok, strict=True) if good],
        "n_done": int(ok.sum()),
        "n_records": len(df),
    }


RUNNERS = {"hyperhive": run_hyperhive, "optuna": run_optuna, "deephyper": run_deephyper}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return usage.ru_utime + usage.ru_stime


def child(name: str, n: int, seed: int, steady_from: int) -> None:
    framework, _, settings = CONFIGS[name]
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        cpu0 = _cpu()
        raw = RUNNERS[framework](settings, n, seed, tmp)
        cpu = _cpu() - cpu0
    fin = sorted(raw["finished"])
    common.emit(
        {
            "config": name,
            "n_done": raw["n_done"],
            "n_records": raw["n_records"],
            "wall_s": raw["t_end"] - raw["t_call"],
            "startup_s": fin[0] - raw["t_call"] if fin else None,
            "steady_tps": common.steady_rate(fin, steady_from, n),
            "overall_tps": raw["n_done"] / (raw["t_end"] - raw["t_call"]),
            "tail_s": raw["t_end"] - fin[-1] if fin else None,
            "driver_cpu_ms_per_trial": 1000 * cpu / max(1, raw["n_done"]),
            "finished_rel": [round(t - raw["t_call"], 6) for t in fin],
        }
    )


# -- the driver --------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steady-from", type=int, default=200)
    ap.add_argument("--only", default="", help="comma-separated configuration names")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.trials, args.seed, args.steady_from)
        return

    names = [s for s in args.only.split(",") if s] or list(CONFIGS)
    unknown = set(names) - set(CONFIGS)
    if unknown:
        ap.error(f"unknown configurations {sorted(unknown)}; choose from {list(CONFIGS)}")
    info = common.machine_info()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(args.reps):
        for name in names:
            out = common.run_child(
                [
                    __file__,
                    "--child",
                    name,
                    "--trials",
                    str(args.trials),
                    "--seed",
                    str(rep),
                    "--steady-from",
                    str(args.steady_from),
                ]
            )
            runs[name].append(out)
            if "error" in out:
                print(f"  {name} rep {rep}: FAILED {out['error']}\n{out.get('stderr', '')}")
            else:
                print(
                    f"  {name} rep {rep}: steady {out['steady_tps']:.0f} trials/s, "
                    f"start-up {out['startup_s']:.3f} s, wall {out['wall_s']:.2f} s",
                    flush=True,
                )

    def med(name: str, key: str) -> float:
        return common.median(r.get(key) for r in runs.get(name, []) if "error" not in r)

    optuna_sql = med("optuna-sqlite", "steady_tps")
    optuna_mem = med("optuna-memory", "steady_tps")
    dh = med("deephyper-thread", "steady_tps")
    rows = []
    for name in names:
        ok = [r for r in runs[name] if "error" not in r]
        tps = med(name, "steady_tps")
        rows.append(
            [
                name,
                CONFIGS[name][1],
                f"{len(ok)}/{len(runs[name])}",
                tps,
                common.spread(r["steady_tps"] for r in ok),
                med(name, "overall_tps"),
                med(name, "startup_s"),
                med(name, "wall_s"),
                med(name, "driver_cpu_ms_per_trial"),
                tps / optuna_sql if optuna_sql else float("nan"),
                tps / optuna_mem if optuna_mem else float("nan"),
                tps / dh if dh else float("nan"),
            ]
        )
    headers = [
        "config",
        "what",
        "ok runs",
        f"steady trials/s ({args.steady_from}..{args.trials})",
        "range",
        "overall trials/s",
        "start-up s",
        "wall s",
        "driver CPU ms/trial",
        "x Optuna SQLite",
        "x Optuna memory",
        "x DeepHyper",
    ]
    table = common.markdown_table(headers, rows)
    print()
    print(f"Throughput, {args.trials} trials, median of {args.reps} runs")
    print(common.machine_line(info))
    print()
    print(table)
    path = common.write_results(
        "throughput",
        {"machine": info, "args": vars(args), "table": table, "runs": runs},
    )
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
