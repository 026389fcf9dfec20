"""Reading and reporting at scale (BENCHMARKS.md section 7).

1. Report: time and size of ``hyperhive report`` on synthetic runs of 1,000 and
   10,000 trials (eight workers, five reports per trial, 3% failures, 10% stopped):
   "cold" is the command in a fresh interpreter (imports included), "warm" is
   ``build_report`` again in one process. Target: 10,000 trials in < 10 s, < 10 MB.
2. Dashboard: time to open it (every figure), of a quick refresh after new trials
   (tables and quick figures) and of a rebuild of the costly figures (their own
   thread), and the size of its JSON state.
3. Throughput of a real search (instant objective, 8 process workers, SQLite run
   directory, resumed after 16 trials so that the reader is ready) with no reader,
   with a reader process that polls the dashboard every 200 ms, and with one that
   also builds reports back to back; repeated ``--reps`` times, interleaved, medians. On a
   2-core machine the reader also takes CPU from the search, so the difference
   bounds the cost of reading from above.

    python benchmarks/report_scale.py [--sizes 1000,10000] [--reps 3] [--trials 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import common
from synthetic_run import make_run


def child_report(run_dir: str, out: str) -> None:
    """Build the report twice in this fresh interpreter: cold (with imports), then warm."""
    t = time.perf_counter()
    from hyperhive.analysis import build_report, write_report

    write_report(run_dir, out)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    build_report(run_dir)
    warm = time.perf_counter() - t
    common.emit({"cold_s": cold, "warm_s": warm, "bytes": os.path.getsize(out)})


def child_dashboard(run_dir: str) -> None:
    """Time the dashboard's full and quick refreshes on a copy-free run."""
    from hyperhive.analysis.dashboard import Dashboard
    from hyperhive.storage import SQLiteStore
    from hyperhive.trial.events import submit_event

    t = time.perf_counter()
    board = Dashboard(run_dir, port=0)
    full = time.perf_counter() - t
    size = len(board._body)
    writer = SQLiteStore(Path(run_dir) / "journal.sqlite")
    quick = []
    for _ in range(3):
        writer.append([submit_event(None, {"lr": 0.01, "units": 64}, time=time.time())])
        t = time.perf_counter()
        board._update()
        quick.append(time.perf_counter() - t)
    t = time.perf_counter()
    board._update_slow()
    slow = time.perf_counter() - t
    writer.close()
    board.close()
    common.emit(
        {"full_s": full, "quick_s": common.median(quick), "slow_s": slow, "state_bytes": size}
    )


def child_search(run_dir: str, trials: int) -> None:
    """Search (or resume) ``run_dir`` up to ``trials`` counted trials; rate of the new ones."""
    import hyperhive as hh

    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(common.DIM)})
    before = len(hh.load(run_dir)) if (Path(run_dir) / "run.json").is_file() else 0
    t = time.perf_counter()
    result = hh.search(
        common.instant,
        space,
        max_evals=trials,
        workers=8,
        executor="process",
        optimizer="random",
        seed=0,
        run_dir=run_dir,
    )
    wall = time.perf_counter() - t
    bad = sum(1 for r in result.records if r.status.value != "done")
    new = result.n_counted - before
    common.emit({"wall_s": wall, "rate": new / wall, "counted": result.n_counted, "bad": bad})


def child_reader(run_dir: str, stop_file: str, reports: str) -> None:
    """Poll a dashboard every 200 ms (a thread) and, with ``reports == "1"``, build reports
    back to back, until ``stop_file`` exists. Writes ``<stop_file>.ready`` once set up."""
    import threading

    from hyperhive.analysis import build_report
    from hyperhive.analysis.dashboard import Dashboard

    counts = {"polls": 0, "reports": 0}
    with Dashboard(run_dir, port=0) as board:

        def poll() -> None:
            while not os.path.exists(stop_file):
                with urllib.request.urlopen(board.url + "api/state", timeout=60) as r:
                    json.loads(r.read())
                counts["polls"] += 1
                time.sleep(0.2)

        if reports == "1":
            build_report(run_dir)  # imports done before the search resumes
        poller = threading.Thread(target=poll)
        Path(stop_file + ".ready").touch()
        poller.start()
        while reports == "1" and not os.path.exists(stop_file):
            build_report(run_dir)
            counts["reports"] += 1
        poller.join()
    common.emit(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--trials", type=int, default=1000, help="trials of the live search")
    parser.add_argument("--skip-sizes", action="store_true", help="only the throughput part")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "search":
            child_search(rest[0], int(rest[1]))
        else:
            {"report": child_report, "dashboard": child_dashboard, "reader": child_reader}[kind](
                *rest
            )
        return
    info = common.machine_info()
    me = str(Path(__file__).resolve())
    raw: dict = {"machine": info, "report": {}, "throughput": []}
    with tempfile.TemporaryDirectory(prefix="hh-report-scale-") as tmp:
        rows = []
        for n in [] if args.skip_sizes else [int(s) for s in args.sizes.split(",")]:
            run = Path(tmp) / f"run{n}"
            make_run(run, n)
            reps = [
                common.run_child([me, "--child", "report", str(run), f"{tmp}/r{n}.html"])
                for _ in range(args.reps)
            ]
            board = common.run_child([me, "--child", "dashboard", str(run)])
            raw["report"][n] = {"report": reps, "dashboard": board}
            ok = [r for r in reps if "error" not in r]
            if not ok or "error" in board:
                rows.append([n, "error", reps, board])
                continue
            rows.append(
                [
                    n,
                    common.fmt(common.median(r["cold_s"] for r in ok)),
                    common.fmt(common.median(r["warm_s"] for r in ok)),
                    common.fmt(ok[0]["bytes"] / 1e6),
                    common.fmt(board["full_s"]),
                    common.fmt(board["quick_s"]),
                    common.fmt(board["slow_s"]),
                    common.fmt(board["state_bytes"] / 1e6),
                ]
            )
        print(
            common.markdown_table(
                [
                    "trials",
                    "report cold s",
                    "report warm s",
                    "report MB",
                    "dashboard full s",
                    "dashboard quick s",
                    "dashboard costly s",
                    "dashboard state MB",
                ],
                rows,
            )
        )
        runs: dict[str, list[dict]] = {
            "no reader": [],
            "dashboard polled every 200 ms": [],
            "dashboard polled + reports back to back": [],
        }
        for rep in range(args.reps):
            for name in runs:
                run = Path(tmp) / f"live-{rep}-{len(name)}"
                stop = Path(tmp) / f"stop-{rep}-{len(name)}"
                stop.unlink(missing_ok=True)
                reader = None
                # The run exists first (a few trials), so the reader is up before the search
                # resumes; only the trials after that are timed.
                common.run_child([me, "--child", "search", str(run), "16"])
                if name != "no reader":
                    reader = subprocess.Popen(
                        [
                            sys.executable,
                            me,
                            "--child",
                            "reader",
                            str(run),
                            str(stop),
                            "1" if "reports" in name else "0",
                        ],
                        stdout=subprocess.PIPE,
                        text=True,
                        env=common.child_env(),
                    )
                    ready = Path(str(stop) + ".ready")
                    deadline = time.monotonic() + 600
                    while not ready.exists() and time.monotonic() < deadline:
                        time.sleep(0.1)
                res = common.run_child([me, "--child", "search", str(run), str(args.trials)])
                if reader is not None:
                    stop.touch()
                    out, _ = reader.communicate(timeout=300)
                    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
                    res["reader"] = json.loads(lines[-1]) if lines else {"error": out[-500:]}
                runs[name].append(res)
        raw["throughput"] = runs
        trows = []
        for name, results in runs.items():
            ok = [r for r in results if "error" not in r]
            trows.append(
                [
                    name,
                    common.fmt(common.median(r["rate"] for r in ok)) if ok else "error",
                    common.spread(r["rate"] for r in ok) if ok else "",
                    ", ".join(f"{r['counted']}/{args.trials}" for r in ok),
                    sum(r["bad"] for r in ok),
                    ", ".join(str(r.get("reader", {}).get("polls", "")) for r in ok),
                    ", ".join(str(r.get("reader", {}).get("reports", "")) for r in ok),
                ]
            )
        print()
        print(
            common.markdown_table(
                [
                    "readers",
                    "trials/s (median)",
                    "range",
                    "counted",
                    "not done",
                    "polls",
                    "reports",
                ],
                trows,
            )
        )
    print()
    print(common.machine_line(info))
    print(f"raw numbers: {common.write_results('report_scale', raw)}")


if __name__ == "__main__":
    main()
