"""Rich renderings of a run for the CLI: the summary and the table of top trials."""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from hyperhive.search import Result
    from hyperhive.trial import Trial

STATUS_STYLE = {
    "done": "green",
    "failed": "red",
    "timeout": "yellow",
    "stopped": "cyan",
    "cancelled": "dim",
    "lost": "magenta",
    "running": "blue",
    "pending": "blue",
}


def fmt_value(value: Any) -> str:
    """A short text for a parameter or objective value."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.6g}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(fmt_value(v) for v in value) + ")"
    return str(value)


def fmt_config(config: Mapping[str, Any]) -> str:
    """``name=value`` pairs of a configuration, one per line."""
    if not config:
        return "(empty)"
    return "\n".join(f"{k} = {fmt_value(v)}" for k, v in config.items())


def fmt_time(ts: Any) -> str:
    """A local date and time for an epoch timestamp or an ISO string."""
    if ts is None:
        return "-"
    if isinstance(ts, int | float):
        return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")
    return str(ts)


def read_run_meta(run_dir: Path) -> dict[str, Any]:
    """The run's ``run.json`` as a dict ({} when unreadable)."""
    try:
        meta = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def status_counts(result: Result) -> dict[str, int]:
    """Trials per status, in the order of :class:`hyperhive.TrialStatus`."""
    return dict(result.summary().get("status", {}))


def counts_text(result: Result) -> Text:
    """``done 10 · failed 2 ...`` with status colours."""
    text = Text()
    counts = status_counts(result)
    if not counts:
        return Text("no trials yet", style="dim")
    for i, (status, n) in enumerate(counts.items()):
        if i:
            text.append("  ")
        text.append(f"{status} {n}", style=STATUS_STYLE.get(status, ""))
    return text


def ranked(result: Result) -> list[Trial]:
    """Trials best first: done trials by objective (single) or Pareto front first
    (several objectives), then the rest by id."""
    done = result.done
    if len(result.directions) == 1:
        sign = 1.0 if result.directions[0] == "minimize" else -1.0
        order = sorted(
            done,
            key=lambda t: (not t.feasible, sign * t.values[0], t.id),  # type: ignore[index]
        )
    else:
        front = result.pareto_front()
        front_ids = {t.id for t in front}
        rest = [t for t in done if t.id not in front_ids]
        sign0 = 1.0 if result.directions[0] == "minimize" else -1.0
        order = sorted(front, key=lambda t: sign0 * t.values[0]) + sorted(  # type: ignore[index]
            rest,
            key=lambda t: (not t.feasible, sign0 * t.values[0], t.id),  # type: ignore[index]
        )
    seen = {t.id for t in order}
    return order + [t for t in result.records if t.id not in seen]


def trials_table(
    result: Result,
    top: int | None = None,
    title: str | None = None,
    by_id: bool = False,
    width: int | None = None,
) -> Table:
    """A table of the ``top`` best trials (all when None; in id order with ``by_id``).

    Columns: id, status, objective(s), one per parameter, and seconds. When those
    would not fit in ``width`` characters, the parameters share one ``config`` column
    of ``name=value`` pairs that wraps.
    """
    trials = list(result.records) if by_id else ranked(result)
    if top is not None:
        trials = trials[: max(top, 0)]
    names: list[str] = []
    for t in trials:
        for name in t.config:
            if name not in names:
                names.append(name)
    k = len(result.directions)
    obj_names = ["objective"] if k == 1 else [f"objective_{i}" for i in range(k)]
    rows = []
    for t in trials:
        vals: Sequence[Any] = t.values if t.values is not None else [None] * k
        dur = t.duration
        rows.append(
            (
                str(t.id),
                t.status.value,
                [fmt_value(v) for v in vals],
                [fmt_value(t.config[n]) if n in t.config else "" for n in names],
                "-" if dur is None else f"{dur:.2f}",
            )
        )
    heads = [
        "id",
        "status",
        *(
            f"{n} {'↓' if d == 'minimize' else '↑'}"
            for n, d in zip(obj_names, result.directions, strict=True)
        ),
    ]
    fixed = [max([len(h), *(len(_cells(r)[i]) for r in rows)]) for i, h in enumerate(heads)]
    per_param = [max([len(n), *(len(r[3][i]) for r in rows)]) for i, n in enumerate(names)]
    needed = sum(fixed) + sum(per_param) + len("seconds") + 3 * (len(heads) + len(names) + 1) + 1
    wide = width is None or needed <= width

    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("id", justify="right")
    table.add_column("status")
    for head in heads[2:]:
        table.add_column(head, justify="right")
    if wide:
        for name in names:
            table.add_column(name, justify="right")
    else:
        table.add_column("config", ratio=1)
    table.add_column("seconds", justify="right")
    for tid, status, vals, params, seconds in rows:
        if wide:
            cells = params
        else:
            pairs = [f"{n}={v}" for n, v in zip(names, params, strict=True) if v != ""]
            cells = [" ".join(pairs)]
        table.add_row(tid, Text(status, style=STATUS_STYLE.get(status, "")), *vals, *cells, seconds)
    return table


def _cells(row: tuple[Any, ...]) -> list[str]:
    return [row[0], row[1], *row[2]]


def summary_table(
    result: Result,
    meta: Mapping[str, Any] | None = None,
    elapsed: float | None = None,
    show_run_dir: bool = True,
) -> Group:
    """A key/value grid: stop reason, counts, best trial (or Pareto front), seed, run dir."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    meta = dict(meta or {})
    directions = result.directions
    if result.stop_reason:
        grid.add_row("stopped because", result.stop_reason)
    grid.add_row("trials", counts_text(result))
    grid.add_row("counted", f"{result.n_counted} (toward max_evals)")
    if elapsed is not None:
        grid.add_row("elapsed", f"{elapsed:.1f} s")
    grid.add_row("direction", ", ".join(directions))
    if len(directions) == 1:
        best = result.best
        if best is None:
            grid.add_row("best", Text("no trial succeeded", style="red"))
        else:
            grid.add_row("best value", Text(fmt_value(best.objective), style="bold green"))
            grid.add_row("best trial", str(best.id))
            grid.add_row("best config", fmt_config(best.config))
    else:
        front = result.pareto_front()
        ids = ", ".join(str(t.id) for t in front)
        grid.add_row("pareto front", f"{len(front)} trial(s): {ids}")
    seed = result.seed if result.seed is not None else meta.get("seed")
    if seed is not None:
        grid.add_row("seed", str(seed))
    opt = meta.get("optimizer")
    if opt:
        grid.add_row("optimizer", _fmt_optimizer(opt))
    created = meta.get("created") or meta.get("created_at")
    if created is not None:
        grid.add_row("created", fmt_time(created))
    if show_run_dir and result.run_dir is not None:
        grid.add_row("run dir", str(result.run_dir))
    return Group(grid)


def _fmt_optimizer(opt: Any) -> str:
    if isinstance(opt, Mapping):
        name = opt.get("name", "?")
        rest = {k: v for k, v in opt.items() if k != "name" and v is not None}
        if rest:
            return f"{name} (" + ", ".join(f"{k}={fmt_value(v)}" for k, v in rest.items()) + ")"
        return str(name)
    return str(opt)


def peers_table(peers: Mapping[str, Mapping[str, Any]], *, width: int | None = None) -> Table:
    """The peers of a decentralized run: host, pid, workers, last heartbeat and whether
    each one's lease is alive (live peers first)."""
    import time

    alive = sum(1 for p in peers.values() if p.get("alive"))
    table = Table(
        title=f"peers ({alive} alive of {len(peers)})",
        title_justify="left",
        width=width if width is not None and width < 120 else None,
    )
    for col in ("peer", "state", "host", "pid", "workers", "started", "last seen"):
        table.add_column(col, overflow="fold")
    now = time.time()
    order = sorted(peers.items(), key=lambda kv: (not kv[1].get("alive"), kv[0]))
    for name, rec in order:
        seen = rec.get("seen")
        ago = f"{max(0.0, now - float(seen)):.0f} s ago" if isinstance(seen, int | float) else "-"
        table.add_row(
            name,
            Text("alive", style="green") if rec.get("alive") else Text("gone", style="dim"),
            fmt_value(rec.get("host")),
            fmt_value(rec.get("pid")),
            fmt_value(rec.get("workers")),
            fmt_time(rec.get("started")),
            ago,
        )
    return table
