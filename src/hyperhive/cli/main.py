"""The ``hyperhive`` command line: ``run``, ``worker``, ``status``, ``trials`` and ``demo``."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from hyperhive import __version__

app = typer.Typer(
    name="hyperhive",
    help="Asynchronous, parallel hyperparameter search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

#: Where fresh run directories go (under the current directory).
RUNS_FOLDER = "hyperhive-runs"
#: Set to 1 to see library tracebacks instead of one-line errors.
TRACEBACK_ENV = "HYPERHIVE_TRACEBACK"

# Arguments and options that mean the same in several commands (the others differ in
# their help: `worker` speaks of this peer and of the run shared by all peers).
ProblemFile = Annotated[
    Path,
    typer.Argument(
        help="A Python file defining `space` and `objective` (and optional defaults).",
        metavar="FILE",
        show_default=False,
    ),
]
TrialTimeout = Annotated[
    float | None, typer.Option("--trial-timeout", help="Per-trial limit in seconds.")
]
ExecutorName = Annotated[
    str | None,
    typer.Option("--executor", "-e", help="auto, serial, thread, process, dask, ray or mpi."),
]
ExecutorAddress = Annotated[
    str | None,
    typer.Option(
        "--executor-address",
        metavar="ADDRESS",
        help="Scheduler address for --executor dask (tcp://host:8786) or ray (host:6379).",
    ),
]
Directions = Annotated[
    list[str] | None,
    typer.Option(
        "--direction",
        "-d",
        help="minimize or maximize; repeat once per objective.",
        metavar="DIRECTION",
    ),
]
WarmStart = Annotated[
    Path | None,
    typer.Option(
        "--warm-start",
        metavar="RUN_DIR",
        help="An earlier run whose finished trials the optimizer learns from first.",
    ),
]
StopperName = Annotated[
    str | None,
    typer.Option(
        "--stopper",
        metavar="NAME",
        help="Stop hopeless trials early from what they report per step "
        "(hh.report(value, step=...)): asha, median or constant. Hyperband and lce "
        "need max_steps: set e.g. stopper = hh.stoppers.Hyperband(max_steps=27) in FILE.",
    ),
]
Progress = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Live progress display. Default: on when stderr is a terminal.",
        metavar="",
        show_default=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``Error: message`` on stderr and exit with ``code`` (2: bad input)."""
    err.print(f"[bold red]Error:[/] {escape(message)}")
    raise typer.Exit(code)


def fresh_run_dir(prefix: str) -> Path:
    """Create and return a new ``hyperhive-runs/<prefix>-YYYYmmdd-HHMMSS[-n]`` folder."""
    base = Path.cwd() / RUNS_FOLDER
    base.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = base / (f"{prefix}-{stamp}" if n == 1 else f"{prefix}-{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"could not create a fresh run directory under {base}")  # pragma: no cover


def relative(path: Path | None) -> str:
    """``path`` relative to the current directory when inside it, else absolute."""
    if path is None:
        return "(in memory)"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"hyperhive {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Show the version and exit.",
        metavar="",
    ),
) -> None:
    """Asynchronous, parallel hyperparameter search.

    Run `hyperhive demo` to tune a scikit-learn classifier, `hyperhive run FILE.py`
    to search a problem of your own, `hyperhive worker FILE.py` to start one peer of
    a decentralized search, and `hyperhive status RUN_DIR` to look at a run.
    """


def _search(
    objective: Any,
    space: Any,
    kwargs: dict[str, Any],
    fresh: Path | None,
    *,
    peer: bool = False,
) -> Any:
    """Call ``hh.search`` (``hh.worker`` with ``peer``); bad arguments, and a run
    directory that another driver holds, become a one-line error with exit code 2.

    ``fresh`` is a run directory this command created; it is removed again when the
    search refused to start and left it empty.
    """
    import hyperhive as hh
    from hyperhive.storage.lock import RunLockedError

    try:
        if peer:
            return hh.worker(objective, space, **kwargs)
        return hh.search(objective, space, **kwargs)
    except (ValueError, TypeError, ImportError, FileNotFoundError, RunLockedError) as exc:
        if fresh is not None:
            with contextlib.suppress(OSError):
                fresh.rmdir()  # only succeeds while empty
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        fail(str(exc))


#: Executors that take a scheduler or cluster address.
ADDRESS_EXECUTORS = ("dask", "ray")


def _with_address(kwargs: dict[str, Any], address: str | None) -> None:
    """Replace ``kwargs["executor"]`` by a Dask or Ray executor connected to ``address``.

    Exits with code 2 when the executor is not ``dask`` or ``ray`` or its extra is missing.
    """
    if address is None:
        return
    name = kwargs.get("executor")
    if not isinstance(name, str) or name.strip().lower() not in ADDRESS_EXECUTORS:
        shown = name if isinstance(name, str) else type(name).__name__ if name else "auto"
        fail(
            f"--executor-address needs --executor dask or ray (got executor {shown!r}); "
            "the serial, thread, process and mpi executors take no address"
        )
    import hyperhive.executors as executors

    try:
        cls = executors.Dask if name.strip().lower() == "dask" else executors.Ray
        kwargs["executor"] = cls(kwargs.get("workers"), address=address)
    except ImportError as exc:
        fail(str(exc))
    except (ValueError, TypeError) as exc:
        fail(f"cannot use executor {name!r} at {address!r}: {exc}")


def _refuse_if_driven(run_dir: Path) -> None:
    """Exit 2 (one line naming the holder) when another driver holds ``run_dir``.

    Only so that nothing else is printed first: ``hh.search`` takes the lock itself and
    refuses the same way when another driver takes it in between.
    """
    from hyperhive.storage import DriverLock, RunDir, RunLockedError

    if not run_dir.is_dir():
        return
    lock = DriverLock(run_dir / RunDir.LOCK)
    try:
        holder = lock.holder()
    except OSError:  # unreadable: the search reports what is wrong
        return
    if holder:
        fail(str(RunLockedError(lock.path, holder)))


def _report(result: Any, elapsed: float, title: str) -> int:
    """Print the end-of-search summary; return the exit code (0, 1 when nothing succeeded,
    130 when interrupted)."""
    from hyperhive.cli import render

    out.print()
    out.rule(f"[bold]{escape(title)}")
    meta = render.read_run_meta(result.run_dir) if result.run_dir is not None else {}
    out.print(render.summary_table(result, meta, elapsed=elapsed, show_run_dir=False))
    if len(result.done) > 1:
        out.print(render.trials_table(result, top=5, title="top trials", width=out.width))
    if result.run_dir is not None:
        rd = relative(result.run_dir)
        out.print(
            f"\nrun directory: [bold]{escape(rd)}[/]  "
            f"(see `hyperhive status {escape(rd)}`; pass --run-dir {escape(rd)} to resume)",
            highlight=False,
        )
    reason = result.stop_reason or ""
    if reason.startswith("interrupted"):
        return 130
    if not result.done and result.n_counted:
        failed = [t for t in result.records if t.status.value in ("failed", "timeout")]
        if failed:
            last = failed[-1]
            err.print(
                f"[bold red]No trial succeeded.[/] Trial {last.id} ended {last.status.value}: "
                f"{escape(last.reason or '')}"
            )
            if last.traceback:
                err.print(escape(last.traceback.rstrip()), highlight=False)
        return 1
    return 0


def _problem_options(file: Path, **given: Any) -> tuple[Any, dict[str, Any]]:
    """The problem of FILE and the search options: its defaults, then those given."""
    from hyperhive.cli.loader import ProblemError, load_problem

    try:
        problem = load_problem(file)
    except ProblemError as exc:
        fail(str(exc))
    kwargs = dict(problem.defaults)
    kwargs.update({k: v for k, v in given.items() if v is not None})
    return problem, kwargs


def _search_and_exit(
    objective: Any,
    space: Any,
    kwargs: dict[str, Any],
    progress: bool | None,
    fresh: Path | None,
    title: str,
    peer: bool = False,
    after: Any = None,
) -> NoReturn:
    """Run the search (progress shown by default on a terminal), report, call ``after`` with
    the result, exit with its code."""
    kwargs["progress"] = sys.stderr.isatty() if progress is None else progress
    start = time.monotonic()
    result = _search(objective, space, kwargs, fresh, peer=peer)
    code = _report(result, time.monotonic() - start, title)
    if after is not None:
        after(result)
    raise typer.Exit(code)


@app.command()
def run(
    file: ProblemFile,
    max_evals: int | None = typer.Option(
        None, "--max-evals", "-n", help="Counted trials to run (done/failed/timeout/stopped)."
    ),
    timeout: float | None = typer.Option(None, "--timeout", help="Wall-time limit in seconds."),
    trial_timeout: TrialTimeout = None,
    workers: int | None = typer.Option(None, "--workers", "-w", help="Trials run at once."),
    executor: ExecutorName = None,
    executor_address: ExecutorAddress = None,
    optimizer: str | None = typer.Option(
        None, "--optimizer", "-o", help="auto, random, qmc, ... (see the README)."
    ),
    run_dir: Path | None = typer.Option(
        None,
        "--run-dir",
        "-r",
        metavar="DIR",
        help="Run directory; an existing one is resumed. "
        f"Default: a fresh {RUNS_FOLDER}/<file>-<time>.",
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        metavar="URL",
        help="Journal the run here instead of the run directory (redis://host:6379/0, a path).",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed for a reproducible search."),
    direction: Directions = None,
    max_failures: int | None = typer.Option(
        None, "--max-failures", help="Stop after this many failed or timed-out trials."
    ),
    max_retries: int | None = typer.Option(
        None, "--max-retries", help="How often a trial whose worker died is re-run (then it fails)."
    ),
    warm_start: WarmStart = None,
    stopper: StopperName = None,
    progress: Progress = None,
) -> None:
    """Search the problem defined in FILE.

    FILE defines `space` (a hyperhive.Space or a dict) and `objective(config)`. It may
    also set defaults for the options as module variables: direction, max_evals,
    timeout, trial_timeout, max_failures, max_retries, workers, executor, optimizer,
    seed, run_dir, callbacks, initial_points, warm_start, slots_per_trial, stopper
    (a name or a hyperhive.stoppers instance). Options given here override them.
    """
    problem, kwargs = _problem_options(
        file,
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        workers=workers,
        executor=executor,
        optimizer=optimizer,
        run_dir=run_dir,
        seed=seed,
        direction=list(direction) if direction else None,
        max_failures=max_failures,
        max_retries=max_retries,
        store=store,
        warm_start=warm_start,
        stopper=stopper,
    )
    _with_address(kwargs, executor_address)
    fresh = None
    if kwargs.get("run_dir") is None:
        kwargs["run_dir"] = fresh = fresh_run_dir(problem.path.stem)
    rd = Path(kwargs["run_dir"])
    _refuse_if_driven(rd)
    verb = "resuming" if (rd / "run.json").exists() else "starting"
    err.print(f"{verb} a search of {escape(str(file))} in {escape(relative(rd))}", highlight=False)
    _search_and_exit(
        problem.objective,
        problem.space,
        kwargs,
        progress,
        fresh,
        f"search of {problem.path.name} ended",
    )


@app.command()
def worker(
    file: ProblemFile,
    store: str | None = typer.Option(
        None,
        "--store",
        metavar="URL",
        help="The store every peer shares: redis://host:6379/0 (or rediss://). "
        "Default: the run directory's SQLite journal (peers on one host).",
    ),
    run_dir: Path | None = typer.Option(
        None,
        "--run-dir",
        "-r",
        metavar="DIR",
        help="This peer's folder; without --store it holds the shared journal, with Redis "
        "its name is the run's name on the server.",
    ),
    max_evals: int | None = typer.Option(
        None, "--max-evals", "-n", help="Counted trials across all peers (default 100)."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="This peer's wall-time limit in seconds."
    ),
    trial_timeout: TrialTimeout = None,
    workers: int | None = typer.Option(
        None, "--workers", "-w", help="This peer's trials in flight at once."
    ),
    executor: ExecutorName = None,
    executor_address: ExecutorAddress = None,
    optimizer: str | None = typer.Option(
        None, "--optimizer", "-o", help="This peer's optimizer: auto, random, qmc, ..."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="The run's seed (the first peer's is kept)."
    ),
    direction: Directions = None,
    max_failures: int | None = typer.Option(
        None, "--max-failures", help="Stop every peer after this many failed or timed-out trials."
    ),
    max_retries: int | None = typer.Option(
        None, "--max-retries", help="How often a trial whose worker died is re-run (then it fails)."
    ),
    peer: str | None = typer.Option(
        None, "--peer", metavar="NAME", help="This peer's name (default host-pid-random)."
    ),
    warm_start: WarmStart = None,
    stopper: StopperName = None,
    progress: Progress = None,
) -> None:
    """Run one peer of a decentralized search of the problem in FILE.

    Start as many peers as you like, on any hosts and at any time, with the same FILE,
    --store and --run-dir name: they share the trials through the store, and the run
    ends for all of them once --max-evals trials are counted across peers. Without
    --store the peers share the run directory's SQLite journal (one host, local disk).
    FILE may set defaults as for `hyperhive run` (initial_points, warm_start,
    slots_per_trial and stopper included, with the same meaning).
    """
    problem, kwargs = _problem_options(
        file,
        store=store,
        run_dir=run_dir,
        max_evals=max_evals,
        timeout=timeout,
        trial_timeout=trial_timeout,
        workers=workers,
        executor=executor,
        optimizer=optimizer,
        seed=seed,
        direction=list(direction) if direction else None,
        max_failures=max_failures,
        max_retries=max_retries,
        peer=peer,
        warm_start=warm_start,
        stopper=stopper,
    )
    if store is None and kwargs.get("run_dir") is None:
        fail("hyperhive worker needs --store URL (e.g. redis://host:6379/0) or --run-dir DIR")
    _with_address(kwargs, executor_address)
    where = escape(store) if store is not None else escape(relative(Path(kwargs["run_dir"])))
    err.print(f"joining a search of {escape(str(file))} as a peer on {where}", highlight=False)
    _search_and_exit(
        problem.objective,
        problem.space,
        kwargs,
        progress,
        None,
        f"peer of {problem.path.name} left",
        peer=True,
    )


@app.command()
def status(
    run_dir: Path = typer.Argument(..., help="A run directory.", metavar="RUN_DIR"),
    top: int = typer.Option(10, "--top", "-t", help="How many of the best trials to list."),
    store: str | None = typer.Option(
        None,
        "--store",
        metavar="URL",
        help="Read the run from this store (redis://host:6379/0, a journal path) instead "
        "of the run directory's journal.",
    ),
) -> None:
    """Summarize a run: counts per status, the best trial, seed, optimizer, the top trials,
    and the peers of a decentralized run (`hyperhive worker`), alive or not."""
    from hyperhive.cli import render

    result = _load(run_dir, store)
    meta = render.read_run_meta(run_dir)
    out.print(render.summary_table(result, meta))
    if top > 0 and len(result):
        out.print(
            render.trials_table(
                result, top=top, title=f"top {min(top, len(result))} trials", width=out.width
            )
        )
    found = _peers(run_dir, store)
    if found:
        out.print(render.peers_table(found, width=out.width))


def _peers(run_dir: Path, store: str | None) -> dict[str, dict[str, Any]]:
    """The run's peers ({} when it has none or the store cannot say)."""
    from hyperhive.search.worker import peers

    if store is None and not (Path(run_dir) / "journal.sqlite").is_file():
        return {}
    try:
        return peers(store if store is not None else Path(run_dir), run_dir)
    except Exception:  # a status display; the trials above are what matters
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        return {}


@app.command()
def trials(
    run_dir: Path = typer.Argument(..., help="A run directory.", metavar="RUN_DIR"),
    csv: bool = typer.Option(False, "--csv", help="Write CSV on stdout.", metavar=""),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the CSV to this file (atomically) instead."
    ),
) -> None:
    """The table of trials: one row per trial, with status, objective(s) and parameters.

    Without --csv or --output, shows every trial in a table.
    """
    result = _load(run_dir)
    if output is not None:
        _write_atomic(output, result.trials.to_csv(index=False))
        err.print(f"wrote {len(result)} trials to {escape(str(output))}", highlight=False)
    elif csv:
        sys.stdout.write(result.trials.to_csv(index=False))
        sys.stdout.flush()
    else:
        from hyperhive.cli import render

        out.print(render.trials_table(result, by_id=True, width=out.width))


@app.command()
def demo(
    max_evals: int = typer.Option(60, "--max-evals", "-n", help="Counted trials to run."),
    timeout: float | None = typer.Option(None, "--timeout", help="Wall-time limit in seconds."),
    workers: int = typer.Option(2, "--workers", "-w", help="Process workers."),
    executor: str = typer.Option("process", "--executor", "-e", help="Executor to use."),
    optimizer: str = typer.Option("auto", "--optimizer", "-o", help="Optimizer to use."),
    run_dir: Path | None = typer.Option(
        None,
        "--run-dir",
        "-r",
        metavar="DIR",
        help="Run directory; an existing one is resumed. "
        f"Default: a fresh {RUNS_FOLDER}/demo-<time>.",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed for a reproducible search."),
    progress: Progress = None,
) -> None:
    """Tune a scikit-learn HistGradientBoostingClassifier on the digits dataset.

    Maximizes the 3-fold cross-validated balanced accuracy; the dataset ships with
    scikit-learn, nothing is downloaded. Needs `pip install 'hyperhive[demo]'`.
    """
    from hyperhive.cli import demo as problem

    try:
        problem.require_sklearn()
    except problem.MissingDependency as exc:
        fail(str(exc))
    if run_dir is None:
        fresh = rd = fresh_run_dir("demo")
    else:
        fresh, rd = None, run_dir
    verb = "resuming" if (rd / "run.json").exists() else "starting"
    err.print(
        f"{verb} the demo in {escape(relative(rd))}: tuning HistGradientBoostingClassifier on "
        f"digits, {problem.METRIC}, {max_evals} trials on {workers} {executor} worker(s)",
        highlight=False,
    )
    kwargs: dict[str, Any] = {
        "direction": problem.DIRECTION,
        "optimizer": optimizer,
        "max_evals": max_evals,
        "timeout": timeout,
        "workers": workers,
        "executor": executor,
        "run_dir": rd,
        "seed": seed,
    }
    _search_and_exit(
        problem.objective,
        problem.make_space(),
        kwargs,
        progress,
        fresh,
        f"demo ended: {problem.METRIC}",
        after=view.demo_report,
    )


def _load(run_dir: Path, store: str | None = None) -> Any:
    import hyperhive as hh

    try:
        return hh.load(run_dir, store=store)
    except FileNotFoundError as exc:
        fail(str(exc))
    except ImportError as exc:
        fail(str(exc))
    except (ValueError, OSError) as exc:
        where = f"store {store!r}" if store is not None else f"run directory {str(run_dir)!r}"
        fail(f"cannot read {where}: {exc}")


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        fail(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


from hyperhive.cli.ensemble import ensemble as _ensemble  # noqa: E402 - beside its registration

app.command("ensemble")(_ensemble)
from hyperhive.cli import view  # noqa: E402 - its commands use the helpers above

view.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
