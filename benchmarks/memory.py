"""Peak memory of the driver: random search, instant objective, SQLite run directory.

Each run is a child interpreter; its peak resident set size is ``ru_maxrss`` from
``os.wait4`` (that child only). The child also reports its own peak right after
``import hyperhive`` and the resident size of the returned Result's DataFrame.

    python benchmarks/memory.py [--trials 1000,10000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

import common

TARGET_MB = 300.0


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child(n: int, executor: str, seed: int) -> None:
    import hyperhive as hh

    after_import = _maxrss_mb()
    if n == 0:
        common.emit({"after_import_mb": after_import})
        return
    workers = 1 if executor == "serial" else 8
    space = hh.Space({f"x{i}": hh.Float(0.0, 1.0) for i in range(common.DIM)})
    with tempfile.TemporaryDirectory(prefix="hh-bench-") as tmp:
        t0 = time.perf_counter()
        res = hh.search(
            common.instant,
            space,
            max_evals=n,
            workers=workers,
            executor=executor,
            run_dir=os.path.join(tmp, "run"),
            optimizer="random",
            seed=seed,
        )
        wall = time.perf_counter() - t0
        frame_mb = res.trials.memory_usage(deep=True).sum() / 2**20
        journal = os.path.join(tmp, "run", "journal.sqlite")
        journal_mb = sum(
            os.path.getsize(journal + ext) / 2**20
            for ext in ("", "-wal")
            if os.path.exists(journal + ext)
        )
    common.emit(
        {
            "after_import_mb": after_import,
            "n_records": len(res.records),
            "wall_s": wall,
            "frame_mb": frame_mb,
            "journal_mb": journal_mb,
        }
    )


def measure(n: int, executor: str, seed: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", str(n), "--executor", executor]
    cmd += ["--seed", str(seed)]
    with tempfile.TemporaryFile(mode="w+") as errf:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=errf, text=True, env=common.child_env()
        )
        out = proc.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage
        proc.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read()
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit status {proc.returncode}", "stderr": err[-3000:]}
    res = json.loads(lines[-1])
    res["peak_mb"] = usage.ru_maxrss / 1024.0
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", default="1000,10000")
    ap.add_argument("--executors", default="serial,thread")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--executor", default="serial", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        child(args.child, args.executor, args.seed)
        return

    info = common.machine_info()
    cases = [(0, "import only")] + [
        (int(n), ex) for n in args.trials.split(",") for ex in args.executors.split(",")
    ]
    runs: dict[str, list[dict[str, Any]]] = {}
    for rep in range(args.reps):
        for n, ex in cases:
            key = f"{n}/{ex}"
            out = measure(n, "serial" if n == 0 else ex, rep)
            runs.setdefault(key, []).append(out)
            if "error" in out:
                print(f"  {key} rep {rep}: FAILED {out['error']}\n{out.get('stderr', '')}")
            else:
                print(f"  {key} rep {rep}: peak {out['peak_mb']:.1f} MB", flush=True)

    rows = []
    for n, ex in cases:
        ok = [r for r in runs[f"{n}/{ex}"] if "error" not in r]
        peak = common.median(r["peak_mb"] for r in ok)
        rows.append(
            [
                n or "-",
                ex if n else "(import hyperhive)",
                f"{len(ok)}/{args.reps}",
                peak,
                common.spread(r["peak_mb"] for r in ok),
                common.median(r["after_import_mb"] for r in ok),
                common.median(r.get("frame_mb") for r in ok) if n else None,
                common.median(r.get("journal_mb") for r in ok) if n else None,
                common.median(r.get("wall_s") for r in ok) if n else None,
                ("yes" if peak < TARGET_MB else "NO") if n else "-",
            ]
        )
    headers = [
        "trials",
        "executor",
        "ok runs",
        "peak RSS MB",
        "range",
        "RSS after import MB",
        "DataFrame MB",
        "journal MB (+WAL)",
        "search s",
        f"< {TARGET_MB:.0f} MB",
    ]
    table = common.markdown_table(headers, rows)
    print()
    print(f"Driver peak memory (ru_maxrss), SQLite run dir, median of {args.reps} runs")
    print(common.machine_line(info))
    print()
    print(table)
    path = common.write_results(
        "memory", {"machine": info, "args": vars(args), "table": table, "runs": runs}
    )
    print(f"\nraw numbers: {path}")


if __name__ == "__main__":
    main()
