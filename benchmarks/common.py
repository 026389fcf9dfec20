"""Helpers shared by the benchmark scripts: objectives, child runs, tables, results files.

The objectives live here (an importable module) so that worker processes of every
framework can unpickle them by reference.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

#: Dimension of the search space of the "instant" objective (x0..x4 on [0, 1]).
DIM = 5


# -- objectives -----------------------------------------------------------------------


def instant(config: Mapping[str, Any]) -> float:
    """The instant objective of hyperhive: the sum of the configuration's values."""
    return float(sum(config.values()))


def instant_optuna(trial: Any) -> float:
    """The instant objective, through Optuna's define-by-run API."""
    return float(sum(trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(DIM)))


def instant_deephyper(job: Any) -> float:
    """The instant objective, as a DeepHyper run function (a ``RunningJob``)."""
    return float(sum(job.parameters.values()))


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
#: The global minimum of Hartmann6 on [0, 1]^6.
HARTMANN6_MIN = -3.32237


def hartmann6(x: Sequence[float]) -> float:
    """The 6-D Hartmann function on [0, 1]^6 (minimum -3.32237 at ~(0.20, 0.15, 0.48, ...))."""
    total = 0.0
    for alpha, a_row, p_row in zip(_H6_ALPHA, _H6_A, _H6_P, strict=True):
        inner = sum(a * (xj - p) ** 2 for a, xj, p in zip(a_row, x, p_row, strict=True))
        total += alpha * math.exp(-inner)
    return -total


def trial_sleep(x: Sequence[float]) -> float:
    """Seconds to sleep for the configuration ``x``: U[0.05, 0.5], seeded from ``x``."""
    return random.Random(",".join(repr(float(v)) for v in x)).uniform(0.05, 0.5)


class _Trace:
    """Per-thread append-only files where the objective logs its start and end.

    A trial killed while running leaves a start line without an end line, so the
    time it spent inside the objective up to the deadline is still counted.
    Set ``BENCH_TRACE_DIR`` to enable (the utilization benchmark does).
    """

    def __init__(self) -> None:
        self.local = threading.local()
        self.count = 0

    def file(self) -> Any:
        f = getattr(self.local, "f", None)
        pid = os.getpid()
        if f is None or getattr(self.local, "pid", None) != pid:
            d = os.environ["BENCH_TRACE_DIR"]
            path = os.path.join(d, f"{pid}-{threading.get_ident()}.log")
            f = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
            self.local.f, self.local.pid, self.local.n = f, pid, 0
        return f

    def start(self, t0: float) -> str:
        f = self.file()
        self.local.n += 1
        key = f"{os.getpid()}-{threading.get_ident()}-{self.local.n}"
        f.write(f"S {key} {t0!r}\n")
        return key

    def end(self, key: str, t1: float, y: float) -> None:
        self.file().write(f"E {key} {t1!r} {y!r}\n")


_TRACE = _Trace()


def timed_hartmann(x: Sequence[float]) -> dict[str, float]:
    """Hartmann6 plus a seeded sleep; returns ``{"objective", "t0", "t1"}`` (time.time())."""
    t0 = time.time()
    key = _TRACE.start(t0) if "BENCH_TRACE_DIR" in os.environ else None
    y = hartmann6(x)
    time.sleep(trial_sleep(x))
    t1 = time.time()
    if key is not None:
        _TRACE.end(key, t1, y)
    return {"objective": y, "t0": t0, "t1": t1}


def hartmann_hyperhive(config: Mapping[str, Any]) -> dict[str, float]:
    """The utilization objective for hyperhive (metadata ``t0``/``t1``)."""
    return timed_hartmann([config[f"x{i}"] for i in range(6)])


def hartmann_optuna(trial: Any) -> float:
    """The utilization objective for Optuna (timed after the ``suggest_*`` calls)."""
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
    return timed_hartmann(x)["objective"]


def hartmann_deephyper(job: Any) -> dict[str, Any]:
    """The utilization objective for DeepHyper (which maximizes: returns ``-y``)."""
    out = timed_hartmann([job.parameters[f"x{i}"] for i in range(6)])
    return {"objective": -out["objective"], "metadata": {"t0": out["t0"], "t1": out["t1"]}}


def read_trace(
    directory: str | os.PathLike[str],
) -> list[tuple[str, float, float | None, float | None]]:
    """``(worker, t0, t1, y)`` for every objective call traced in ``directory``.

    ``worker`` names the process and thread that ran the call; ``t1`` and ``y`` are
    None for a call that never returned (killed or still running).
    """
    out = []
    for path in Path(directory).glob("*.log"):
        starts: dict[str, float] = {}
        ends: dict[str, tuple[float, float]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "S":
                starts[parts[1]] = float(parts[2])
            elif len(parts) == 4 and parts[0] == "E":
                ends[parts[1]] = (float(parts[2]), float(parts[3]))
        for key, t0 in starts.items():
            t1, y = ends.get(key, (None, None))
            out.append((path.stem, t0, t1, y))
    return out


# -- measuring ------------------------------------------------------------------------


def steady_rate(finish_times: Iterable[float], lo: int, hi: int) -> float:
    """Trials per second between the ``lo``-th and ``hi``-th finished trial (1-based)."""
    t = sorted(finish_times)
    hi = min(hi, len(t))
    if hi - lo < 1:
        return float("nan")
    span = t[hi - 1] - t[lo - 1]
    return (hi - lo) / span if span > 0 else float("inf")


def median(values: Iterable[float]) -> float:
    vals = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(vals) if vals else float("nan")


def spread(values: Iterable[float]) -> str:
    """``min-max`` of the finite values, for the tables."""
    vals = [v for v in values if v is not None and not math.isnan(v)]
    if not vals:
        return "-"
    return f"{fmt(min(vals))}-{fmt(max(vals))}"


def fmt(value: Any, digits: int = 3) -> str:
    """A compact number: 3 significant digits, thousands separated."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "-"
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# -- child processes ----------------------------------------------------------------


def child_env() -> dict[str, str]:
    """The environment of child interpreters: bytecode caching on, as in a normal install.

    Some sandboxes set ``PYTHONDONTWRITEBYTECODE=1``; an editable install then recompiles
    hyperhive's sources at every import (in every worker process too). Children get a
    bytecode cache under ``benchmarks/results/pycache`` (git-ignored) instead, so the
    source tree is not written to.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(RESULTS / "pycache")
    return env


def run_child(args: Sequence[str], timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh interpreter; its last stdout line is a JSON object.

    Returns the object, plus ``"error"`` (and the stderr tail) when the child failed.
    """
    cmd = [sys.executable, *args]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(HERE.parent),
            env=child_env(),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit status {proc.returncode}", "stderr": proc.stderr[-3000:]}
    return json.loads(lines[-1])


def emit(obj: Mapping[str, Any]) -> None:
    """Print a child's result as the last line of its stdout."""
    sys.stdout.flush()
    print(json.dumps(obj), flush=True)


# -- context and results --------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    versions = {}
    for dist in ("hyperhive", "optuna", "deephyper", "numpy", "SQLAlchemy"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git": git_state(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "versions": versions,
    }


def git_state() -> str:
    """The commit of the tree, with ``+dirty`` when files under ``src/`` are modified."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine_line(info: Mapping[str, Any]) -> str:
    v = info["versions"]
    return (
        f"{info['date']}, {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
        f"hyperhive {v.get('hyperhive')}, optuna {v.get('optuna')}, "
        f"deephyper {v.get('deephyper')}; tree {info.get('git')}; "
        f"load average at start {tuple(round(x, 1) for x in info.get('loadavg') or ())}"
    )


def write_results(name: str, data: Mapping[str, Any]) -> Path:
    """Write raw numbers to ``benchmarks/results/<name>-<time>.json`` (git-ignored)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
    return path


def torch_from_main_env() -> None:
    """Make torch importable (Optuna's GPSampler needs it) when this environment lacks it:
    the project's main ``.venv`` site-packages is appended to ``sys.path`` (appended, so
    nothing of this environment is shadowed)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        site = HERE.parent / ".venv" / "lib" / version / "site-packages"
        if site.is_dir() and str(site) not in sys.path:
            sys.path.append(str(site))
