"""Worker utilization: 8 workers, Hartmann6 plus a seeded U[0.05, 0.5] s sleep, 30 s of wall time.

Utilization = time spent inside the objective (timestamps taken by the objective
itself), clipped to the window [call, call + 30 s], divided by 8 x 30 s. The
objective also logs its start to a per-thread trace file, so that a trial still
running at the deadline (and cancelled then) counts up to the deadline: column
"util (+ in flight)". "util (done)" counts only trials that returned. The idle
time is split into start-up (call to each worker's first trial), gaps between
consecutive trials on a worker, and the end (last trial done to the deadline).

    python benchmarks/utilization.py [--seconds 30] [--reps 3] [--only hh-process-sqlite,...]
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import tempfile
import time
from typing import Any

import common

WORKERS = 8

CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "hh-process-sqlite": ("hyperhive", "random, process x8, SQLite run dir", {"store": "sqlite"}),
    "hh-process-memory": ("hyperhive", "random, process x8, in memory", {"store": None}),
    "optuna-random": ("optuna", "RandomSampler, n_jobs=8, in memory", {"sampler": "random"}),
    "optuna-tpe": ("optuna", "default sampler (TPE), n_jobs=8, in memory", {"sampler": None}),
    "deephyper-random": ("deephyper", "RandomSearch, process evaluator x8", {"search": "random"}),
    "deephyper-cbo": ("deephyper", "CBO (defaults), process evaluator x8", {"search": "cbo"}),
}


# -- one run (in a child interpreter) -------------------------------------------------


def run_hyperhive(settings: dict[str, Any], seconds: int, seed: int, tmp: str) -> dict[str, Any]:
    import hyperhive as hh

    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(6)})
    run_dir = os.path.join(tmp, "run") if settings["store"] == "sqlite" else None
    t_call = time.time()
    res = hh.search(
        common.hartmann_hyperhive,
        space,
        max_evals=None,
        timeout=seconds,
        workers=WORKERS,
        executor="process",
        run_dir=run_dir,
        optimizer="random",
        seed=seed,
    )
    t_end = time.time()
    done = [t for t in res.records if t.status == hh.TrialStatus.DONE]
    return {
        "t_setup": t_call,
        "t_call": t_call,
        "t_end": t_end,
        "n_done": len(done),
        "best": min((t.objective for t in done), default=None),
        "meta_intervals": [(t.metadata["t0"], t.metadata["t1"]) for t in done],
        "statuses": dict(collections.Counter(str(t.status.value) for t in res.records)),
    }


def run_optuna(settings: dict[str, Any], seconds: int, seed: int, tmp: str) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t_setup = time.time()
    sampler = optuna.samplers.RandomSampler(seed=seed) if settings["sampler"] == "random" else None
    if sampler is None:
        sampler = optuna.samplers.TPESampler(seed=seed)  # the default sampler, seeded
    study = optuna.create_study(sampler=sampler)
    t_call = time.time()
    study.optimize(common.hartmann_optuna, n_jobs=WORKERS, timeout=seconds)
    t_end = time.time()
    complete = optuna.trial.TrialState.COMPLETE
    done = [t for t in study.get_trials(deepcopy=False) if t.state == complete]
    return {
        "t_setup": t_setup,
        "t_call": t_call,
        "t_end": t_end,
        "n_done": len(done),
        "best": min((t.value for t in done), default=None),
    }


def run_deephyper(settings: dict[str, Any], seconds: int, seed: int, tmp: str) -> dict[str, Any]:
    from deephyper.evaluator import Evaluator
    from deephyper.hpo import CBO, HpProblem, RandomSearch

    logging.getLogger("deephyper").setLevel(logging.WARNING)
    t_setup = time.time()
    problem = HpProblem()
    for i in range(6):
        problem.add_hyperparameter((0.0, 1.0), f"x{i}")
    evaluator = Evaluator.create(
        common.hartmann_deephyper, method="process", method_kwargs={"num_workers": WORKERS}
    )
    cls = RandomSearch if settings["search"] == "random" else CBO
    search = cls(problem, random_state=seed, log_dir=tmp)
    t_call = time.time()
    df = search.search(evaluator, timeout=seconds)
    t_end = time.time()
    objs = [v for v in df["objective"] if isinstance(v, int | float)] if df is not None else []
    return {
        "t_setup": t_setup,
        "t_call": t_call,
        "t_end": t_end,
        "n_done": len(objs),
        "best": -max(objs) if objs else None,
    }


RUNNERS = {"hyperhive": run_hyperhive, "optuna": run_optuna, "deephyper": run_deephyper}


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def idle_breakdown(
    calls: list[tuple[str, float, float | None, float | None]], w0: float, w1: float, t_end: float
) -> dict[str, float]:
    """Where the idle worker time of the window goes, as fractions of WORKERS x window.

    ``startup``: from the call to each worker's first objective call (a worker that
    never ran counts whole); ``gaps``: between one call's end and the next call's start
    on the same worker; ``end``: after a worker's last call ended, to the deadline.
    """
    by_worker: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for worker, t0, t1, _ in calls:
        by_worker[worker].append((t0, t1 if t1 is not None else t_end))
    capacity = WORKERS * (w1 - w0)
    startup = (WORKERS - min(WORKERS, len(by_worker))) * (w1 - w0)
    gaps: list[float] = []
    end = 0.0
    for spans in by_worker.values():
        spans.sort()
        startup += overlap(w0, spans[0][0], w0, w1)
        gaps += [overlap(a[1], b[0], w0, w1) for a, b in zip(spans, spans[1:], strict=False)]
        end += overlap(spans[-1][1], w1, w0, w1)
    return {
        "loss_startup": startup / capacity,
        "loss_gaps": sum(gaps) / capacity,
        "loss_end": end / capacity,
        "gap_median_ms": 1000 * common.median(gaps),
        "gap_mean_ms": 1000 * sum(gaps) / len(gaps) if gaps else float("nan"),
        "workers_seen": len(by_worker),
    }


def child(name: str, seconds: int, seed: int) -> None:
    framework, _, settings = CONFIGS[name]
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        trace = os.path.join(tmp, "trace")
        os.makedirs(trace)
        os.environ["BENCH_TRACE_DIR"] = trace  # before any worker starts
        raw = RUNNERS[framework](settings, seconds, seed, tmp)
        calls = common.read_trace(trace)
    w0 = raw["t_call"]
    w1 = w0 + seconds
    capacity = WORKERS * seconds
    busy_done = sum(overlap(t0, t1, w0, w1) for _, t0, t1, _ in calls if t1 is not None)
    # an unfinished call ran until it was killed (after the deadline) or the search returned
    busy_open = sum(overlap(t0, raw["t_end"], w0, w1) for _, t0, t1, _ in calls if t1 is None)
    in_window = [(t1, y) for _, _, t1, y in calls if t1 is not None and t1 <= w1]
    out = {
        "config": name,
        "util_done": busy_done / capacity,
        "util_all": (busy_done + busy_open) / capacity,
        "completed_in_window": len(in_window),
        "best_in_window": min((y for _, y in in_window), default=None),
        "n_done": raw["n_done"],
        "best": raw["best"],
        "calls": len(calls),
        "unfinished_calls": sum(t1 is None for _, _, t1, _ in calls),
        "first_start_s": min((t0 for _, t0, _, _ in calls), default=w0) - w0,
        "setup_s": w0 - raw["t_setup"],
        "returned_after_s": raw["t_end"] - w0,
        **idle_breakdown(calls, w0, w1, raw["t_end"]),
    }
    if "meta_intervals" in raw:  # cross-check with the metadata the objective returned
        busy = sum(overlap(t0, t1, w0, w1) for t0, t1 in raw["meta_intervals"])
        out["util_done_metadata"] = busy / capacity
        out["statuses"] = raw["statuses"]
    common.emit(out)


# -- the driver --------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated configuration names")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seconds, args.seed)
        return

    names = [s for s in args.only.split(",") if s] or list(CONFIGS)
    unknown = set(names) - set(CONFIGS)
    if unknown:
        ap.error(f"unknown configurations {sorted(unknown)}; choose from {list(CONFIGS)}")
    info = common.machine_info()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(args.reps):
        for name in names:
            cmd = [__file__, "--child", name, "--seconds", str(args.seconds), "--seed", str(rep)]
            out = common.run_child(cmd, timeout=args.seconds * 10 + 120)
            runs[name].append(out)
            if "error" in out:
                print(f"  {name} rep {rep}: FAILED {out['error']}\n{out.get('stderr', '')}")
            else:
                print(
                    f"  {name} rep {rep}: util {out['util_done']:.1%} done, "
                    f"{out['util_all']:.1%} with in-flight, {out['completed_in_window']} trials, "
                    f"best {out['best_in_window']}, returned after {out['returned_after_s']:.2f} s",
                    flush=True,
                )

    rows = []
    for name in names:
        ok = [r for r in runs[name] if "error" not in r]

        def med(key: str, ok: list[dict[str, Any]] = ok) -> float:
            return common.median(r.get(key) for r in ok)

        rows.append(
            [
                name,
                CONFIGS[name][1],
                f"{len(ok)}/{len(runs[name])}",
                f"{med('util_done'):.1%}" if ok else "-",
                f"{med('util_all'):.1%}" if ok else "-",
                common.spread(100 * r["util_all"] for r in ok),
                med("completed_in_window"),
                med("best_in_window"),
                med("first_start_s"),
                f"{med('loss_startup'):.1%}" if ok else "-",
                f"{med('loss_gaps'):.1%}" if ok else "-",
                med("gap_median_ms"),
                f"{med('loss_end'):.1%}" if ok else "-",
                med("returned_after_s"),
            ]
        )
    headers = [
        "config",
        "what",
        "ok runs",
        "util (done)",
        "util (+ in flight)",
        "range %",
        f"trials done in {args.seconds} s",
        "best Hartmann6",
        "first trial starts s",
        "lost: start-up",
        "lost: gaps",
        "median gap ms",
        "lost: end",
        "call returns s",
    ]
    table = common.markdown_table(headers, rows)
    print()
    print(
        f"Utilization, {WORKERS} workers, {args.seconds} s, median of {args.reps} runs "
        f"(Hartmann6 minimum {common.HARTMANN6_MIN})"
    )
    print(common.machine_line(info))
    print()
    print(table)
    path = common.write_results(
        "utilization", {"machine": info, "args": vars(args), "table": table, "runs": runs}
    )
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
