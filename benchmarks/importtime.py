"""Import cost of ``import hyperhive``, and proof that heavy optional packages stay unimported.

* ``python -X importtime -c "import hyperhive"``: the cumulative time of the
  ``hyperhive`` entry (median of ``--reps`` runs) and the slowest imports below it;
* wall time of ``python -c "import hyperhive"`` minus ``python -c "pass"``;
* ``sys.modules`` of a child after ``import hyperhive``: none of the FORBIDDEN
  top-level packages may be there (exit status 1 otherwise).

    python benchmarks/importtime.py [--reps 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import common

FORBIDDEN = ("torch", "ray", "dask", "distributed", "mpi4py", "plotly")
#: Reported (not forbidden): what a bare ``import hyperhive`` pulls in.
WATCH = (
    "numpy",
    "scipy",
    "pandas",
    "ConfigSpace",
    "cloudpickle",
    "threadpoolctl",
    "psutil",
    "typer",
    "rich",
    "sklearn",
    "matplotlib",
    "optuna",
    "deephyper",
    "sqlalchemy",
    "multiprocessing",
    "sqlite3",
)


def importtime_run(env: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) from one ``-X importtime`` run."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import hyperhive"],
        capture_output=True,
        text=True,
        check=True,
        env=env or common.child_env(),
    )
    out: dict[str, tuple[int, int]] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line[len("import time:") :].split("|")
        # a module imported twice keeps its first (real) entry
        out.setdefault(name.strip(), (int(self_us), int(cum_us)))
    return out


def wall_and_cpu(code: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of ``python -c code`` (CPU: less sensitive to load)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=common.child_env())
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, code)
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def modules_after_import() -> list[str]:
    code = "import json, sys; import hyperhive; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=common.child_env(),
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    info = common.machine_info()

    importtime_run()  # warm the bytecode caches
    runs = [importtime_run() for _ in range(args.reps)]
    total_ms = common.median(r["hyperhive"][1] / 1000 for r in runs)
    # as inherited: where PYTHONDONTWRITEBYTECODE=1 and the editable sources have no
    # bytecode cache, every import compiles hyperhive's sources again
    inherited = dict(os.environ)
    cold_ms = common.median(
        importtime_run(inherited)["hyperhive"][1] / 1000 for _ in range(args.reps)
    )
    names = set().union(*runs)
    cum = {n: common.median(r[n][1] / 1000 for r in runs if n in r) for n in names}
    selfs = {n: common.median(r[n][0] / 1000 for r in runs if n in r) for n in names}
    with_import = [wall_and_cpu("import hyperhive") for _ in range(args.reps)]
    bare = [wall_and_cpu("pass") for _ in range(args.reps)]
    wall_ms = 1000 * (common.median(w for w, _ in with_import) - common.median(w for w, _ in bare))
    cpu_ms = 1000 * (common.median(c for _, c in with_import) - common.median(c for _, c in bare))

    mods = modules_after_import()
    tops = {m.split(".")[0] for m in mods}
    forbidden = [m for m in FORBIDDEN if m in tops]
    watched = {m: m in tops for m in WATCH}

    # the slowest top-level packages (cumulative) and modules (self)
    top_pkgs = sorted(
        ((n, c) for n, c in cum.items() if "." not in n and n != "hyperhive"),
        key=lambda x: -x[1],
    )[: args.top]
    top_self = sorted(selfs.items(), key=lambda x: -x[1])[: args.top]
    hh_mods = sorted(
        ((n, c) for n, c in cum.items() if n.startswith("hyperhive.")), key=lambda x: -x[1]
    )[: args.top]

    summary = common.markdown_table(
        ["measure", "value"],
        [
            ["-X importtime, cumulative of `hyperhive` (median ms)", total_ms],
            ["range ms", common.spread(r["hyperhive"][1] / 1000 for r in runs)],
            [
                "same, inherited environment "
                f"(PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r})",
                cold_ms,
            ],
            ["wall: `import hyperhive` minus `pass` (median ms)", wall_ms],
            ["CPU (user+sys): `import hyperhive` minus `pass` (median ms)", cpu_ms],
            ["modules in sys.modules after import", len(mods)],
            ["forbidden imported (" + ", ".join(FORBIDDEN) + ")", ", ".join(forbidden) or "none"],
            ["also imported", ", ".join(m for m, v in watched.items() if v) or "none"],
            ["not imported", ", ".join(m for m, v in watched.items() if not v) or "none"],
        ],
    )
    t_pkgs = common.markdown_table(["package (top level)", "cumulative ms"], top_pkgs)
    t_self = common.markdown_table(["module", "self ms"], top_self)
    t_hh = common.markdown_table(["hyperhive module", "cumulative ms"], hh_mods)
    print()
    print(f"Import time of hyperhive, median of {args.reps} runs")
    print(common.machine_line(info))
    print()
    print(summary)
    print()
    print(t_pkgs)
    print()
    print(t_hh)
    print()
    print(t_self)
    data: dict[str, Any] = {
        "machine": info,
        "args": vars(args),
        "total_ms": total_ms,
        "inherited_env_ms": cold_ms,
        "wall_ms": wall_ms,
        "cpu_ms": cpu_ms,
        "forbidden_imported": forbidden,
        "watched": watched,
        "modules": mods,
        "cumulative_ms": cum,
        "self_ms": selfs,
        "tables": [summary, t_pkgs, t_hh, t_self],
    }
    path = common.write_results("importtime", data)
    print(f"\nraw numbers: {path}")
    if forbidden:
        print(f"FAIL: import hyperhive imported {forbidden}")
        sys.exit(1)


if __name__ == "__main__":
    main()
