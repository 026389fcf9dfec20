"""Worker utilization of the distributed executors: 8 workers, Hartmann6 plus a sleep.

Workload: Hartmann6 on [0, 1]^6 plus a sleep drawn from U[0.05, 0.5] s (seeded by
the configuration), random search, 30 s of wall time. Utilization = time inside the
objective (timestamps the objective takes itself and returns as metadata), clipped to
the window [call, call + 30 s], divided by 8 x 30 s. The search is given 1 s more than
the window, so that trials running at the end of the window return their timestamps.

Each engine is started and warmed (every worker has imported hyperhive, or DeepHyper)
before the window opens; the window opens when the search is called.

Configurations:

* ``dask``: ``hh.executors.Dask`` on a scheduler and 8 single-threaded workers started
  as separate processes (``dask scheduler``, ``dask worker --nworkers 8 --nthreads 1``),
  as in a cluster job
* ``dask-local``: the same on a ``LocalCluster(n_workers=8, threads_per_worker=1)``
  (its scheduler runs in the driver's process, as with ``executor="dask"``)
* ``ray``: ``hh.executors.Ray`` on ``ray.init(num_cpus=8)``
* ``mpi``: ``hh.executors.MPI`` under ``mpirun -n 9 python -m mpi4py.futures`` (this
  script runs itself that way)
* ``deephyper-ray``, ``deephyper-process``: DeepHyper 0.13.2's RandomSearch with its
  ``ray`` and ``process`` evaluators (8 workers), run with ``--bench-python`` (a venv
  with DeepHyper; default ``.venv-bench/bin/python``)

    python benchmarks/utilization_distributed.py [--seconds 30] [--reps 1] [--only dask,mpi]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORKERS = 8
HERE = Path(__file__).resolve().parent
CONFIGS = ["dask", "dask-local", "ray", "mpi", "deephyper-ray", "deephyper-process"]

_H6_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H6_A = (
    (10.0, 3.0, 17.0, 3.5, 1.7, 8.0),
    (0.05, 10.0, 17.0, 0.1, 8.0, 14.0),
    (3.0, 3.5, 1.7, 10.0, 17.0, 8.0),
    (17.0, 8.0, 0.05, 10.0, 0.1, 14.0),
)
_H6_P = (
    (0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886),
    (0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991),
    (0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650),
    (0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381),
)


def hartmann6(x: list[float]) -> float:
    """The 6-D Hartmann function on [0, 1]^6 (minimum -3.32237)."""
    total = 0.0
    for alpha, a_row, p_row in zip(_H6_ALPHA, _H6_A, _H6_P, strict=True):
        inner = sum(a * (xj - p) ** 2 for a, xj, p in zip(a_row, x, p_row, strict=True))
        total += alpha * math.exp(-inner)
    return -total


def timed_hartmann(x: list[float]) -> tuple[float, float, float]:
    """Hartmann6 plus a U[0.05, 0.5] s sleep; returns (value, t0, t1)."""
    t0 = time.time()
    y = hartmann6(x)
    time.sleep(random.Random(",".join(repr(float(v)) for v in x)).uniform(0.05, 0.5))
    return y, t0, time.time()


def objective(config: dict[str, float]) -> dict[str, float]:
    """The hyperhive objective (pickled by value: this module runs as __main__)."""
    y, t0, t1 = timed_hartmann([config[f"x{i}"] for i in range(6)])
    return {"objective": y, "t0": t0, "t1": t1}


def run_deephyper_job(job: Any) -> dict[str, Any]:
    """The DeepHyper run function (maximizes, so the value is negated)."""
    y, t0, t1 = timed_hartmann([job.parameters[f"x{i}"] for i in range(6)])
    return {"objective": -y, "metadata": {"t0": t0, "t1": t1}}


def _warm(_: int = 0) -> int:
    import hyperhive.executors.remote  # noqa: F401 - what the first trial would import

    time.sleep(0.3)
    return os.getpid()


# -- one run (a child process) -------------------------------------------------------------


def hyperhive_search(executor: Any, seconds: float, seed: int) -> dict[str, Any]:
    import hyperhive as hh

    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(6)})
    t_call = time.time()
    result = hh.search(
        objective,
        space,
        executor=executor,
        max_evals=None,
        timeout=seconds + 1.0,
        optimizer="random",
        seed=seed,
    )
    done = [t for t in result.records if t.status == hh.TrialStatus.DONE]
    return {
        "t_call": t_call,
        "t_end": time.time(),
        "intervals": [(t.metadata["t0"], t.metadata["t1"]) for t in done],
        "workers": executor.workers,
    }


def child_dask_local(seconds: float, seed: int) -> dict[str, Any]:
    import dask
    from distributed import Client, LocalCluster

    import hyperhive as hh

    with (
        dask.config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, dashboard_address=None, memory_limit=0
        ) as cluster,
    ):
        with Client(cluster, set_as_default=False) as client:
            client.run(_warm)
        return hyperhive_search(hh.executors.Dask(address=cluster), seconds, seed)


def child_dask(seconds: float, seed: int) -> dict[str, Any]:
    """A scheduler and 8 single-threaded workers as separate processes (a cluster job)."""
    from distributed import Client

    import hyperhive as hh

    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        sched = os.path.join(tmp, "scheduler.json")
        cli = [sys.executable, "-m"]
        env = {**os.environ, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
        procs = [
            subprocess.Popen(
                [*cli, "distributed.cli.dask_scheduler", "--port", "0", "--no-dashboard",
                 "--scheduler-file", sched],
                stderr=subprocess.DEVNULL,
            ),
            subprocess.Popen(
                [*cli, "distributed.cli.dask_worker", "--scheduler-file", sched, "--nworkers",
                 str(WORKERS), "--nthreads", "1", "--memory-limit", "0", "--no-dashboard",
                 "--local-directory", tmp],
                stderr=subprocess.DEVNULL, env=env,
            ),
        ]  # fmt: skip
        try:
            while not os.path.exists(sched):
                time.sleep(0.1)
            with Client(scheduler_file=sched, set_as_default=False) as client:
                client.wait_for_workers(WORKERS, timeout=120)
                client.run(_warm)
                address = client.scheduler.address
            return hyperhive_search(hh.executors.Dask(address=address), seconds, seed)
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(60)


def child_ray(seconds: float, seed: int) -> dict[str, Any]:
    import ray

    import hyperhive as hh

    ray.init(
        num_cpus=WORKERS,
        object_store_memory=80 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
    )
    try:
        ray.get([ray.remote(_warm).remote(i) for i in range(WORKERS)])
        return hyperhive_search(hh.executors.Ray(), seconds, seed)
    finally:
        ray.shutdown()


def child_mpi(seconds: float, seed: int) -> dict[str, Any]:
    from mpi4py.futures import MPIPoolExecutor

    import hyperhive as hh

    with MPIPoolExecutor() as pool:
        list(pool.map(_warm, range(4 * WORKERS)))
    return hyperhive_search(hh.executors.MPI(), seconds, seed)


def child_deephyper(method: str, seconds: float, seed: int) -> dict[str, Any]:
    import logging

    from deephyper.evaluator import Evaluator
    from deephyper.hpo import HpProblem, RandomSearch

    logging.getLogger("deephyper").setLevel(logging.WARNING)
    problem = HpProblem()
    for i in range(6):
        problem.add_hyperparameter((0.0, 1.0), f"x{i}")
    if method == "ray":
        import ray

        ray.init(
            num_cpus=WORKERS,
            object_store_memory=80 * 1024**2,
            include_dashboard=False,
            log_to_driver=False,
        )
        ray.get([ray.remote(_warm_deephyper).remote(i) for i in range(WORKERS)])
        kwargs: dict[str, Any] = {"num_cpus_per_task": 1, "num_workers": WORKERS}
    else:
        kwargs = {"num_workers": WORKERS}
    evaluator = Evaluator.create(run_deephyper_job, method=method, method_kwargs=kwargs)
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        search = RandomSearch(problem, random_state=seed, log_dir=tmp)
        t_call = time.time()
        df = search.search(evaluator, timeout=int(math.ceil(seconds + 1.0)))
        t_end = time.time()
    intervals = []
    if df is not None and "m:t0" in df:
        for t0, t1 in zip(df["m:t0"], df["m:t1"], strict=True):
            if isinstance(t0, int | float) and isinstance(t1, int | float):
                intervals.append((float(t0), float(t1)))
    return {"t_call": t_call, "t_end": t_end, "intervals": intervals, "workers": WORKERS}


def _warm_deephyper(_: int = 0) -> int:
    import deephyper.evaluator  # noqa: F401

    time.sleep(0.3)
    return os.getpid()


def child(name: str, seconds: float, seed: int) -> None:
    if name == "dask":
        raw = child_dask(seconds, seed)
    elif name == "dask-local":
        raw = child_dask_local(seconds, seed)
    elif name == "ray":
        raw = child_ray(seconds, seed)
    elif name == "mpi":
        raw = child_mpi(seconds, seed)
    else:
        raw = child_deephyper(name.split("-", 1)[1], seconds, seed)
    w0, w1 = raw["t_call"], raw["t_call"] + seconds
    busy = sum(max(0.0, min(t1, w1) - max(t0, w0)) for t0, t1 in raw["intervals"])
    out = {
        "config": name,
        "utilization": busy / (WORKERS * seconds),
        "trials": sum(1 for t0, _ in raw["intervals"] if t0 < w1),
        "workers": raw["workers"],
        "first_start_s": min((t0 for t0, _ in raw["intervals"]), default=w0) - w0,
        "returned_after_s": raw["t_end"] - w0,
    }
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")
    sys.stdout.flush()


# -- the driver ------------------------------------------------------------------------------


def command(name: str, args: argparse.Namespace, seed: int) -> list[str] | None:
    tail = [str(Path(__file__).resolve()), "--child", name, "--seconds", str(args.seconds)]
    tail += ["--seed", str(seed)]
    if name.startswith("deephyper"):
        python = Path(args.bench_python)
        return [str(python), *tail] if python.exists() else None
    if name == "mpi":
        bindir = str(Path(sys.executable).parent)
        mpirun = shutil.which("mpirun", path=bindir + os.pathsep + os.environ.get("PATH", ""))
        if mpirun is None:
            return None
        return [mpirun, "-n", str(WORKERS + 1), sys.executable, "-m", "mpi4py.futures", *tail]
    return [sys.executable, *tail]


def run_child(cmd: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PATH"] = str(Path(cmd[0]).parent) + os.pathsep + env.get("PATH", "")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"error": f"exit code {proc.returncode}", "stderr": proc.stderr[-3000:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated configurations")
    ap.add_argument("--bench-python", default=str(HERE.parent / ".venv-bench" / "bin" / "python"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.seconds, args.seed)
        return
    names = [s for s in args.only.split(",") if s] or CONFIGS
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        ap.error(f"unknown configurations {unknown}; choose from {CONFIGS}")
    rows = []
    for name in names:
        results = []
        for rep in range(args.reps):
            cmd = command(name, args, rep)
            if cmd is None:
                results.append({"error": "not available here"})
                break
            out = run_child(cmd, timeout=args.seconds * 4 + 240)
            results.append(out)
            if "error" in out:
                print(f"{name} rep {rep}: FAILED {out['error']}\n{out.get('stderr', '')}")
            else:
                print(f"{name} rep {rep}: {out['utilization']:.1%}, {out['trials']} trials")
        ok = [r for r in results if "error" not in r]
        if ok:
            utils = [r["utilization"] for r in ok]
            trials = sum(r["trials"] for r in ok) / len(ok)
            first = sum(r["first_start_s"] for r in ok) / len(ok)
            util = f"{sum(utils) / len(utils):.1%} (min {min(utils):.1%})"
            rows.append(f"| {name} | {util} | {trials:.0f} | {first:.2f} |")
        else:
            rows.append(f"| {name} | {results[-1]['error']} | | |")
    print()
    print(f"Utilization, {WORKERS} workers, Hartmann6 + U[0.05, 0.5] s sleep, {args.seconds:g} s")
    print(f"({args.reps} run(s) each, {os.cpu_count()} CPUs)")
    print()
    print("| configuration | utilization | trials in window | first trial starts after (s) |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
