"""``hyperhive report`` and ``hyperhive dashboard``: look at runs without touching them."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

__all__ = ["dashboard", "demo_report", "register", "report"]


def _fail(message: str) -> Any:
    from hyperhive.cli.main import fail

    fail(message)


def report(
    runs: list[str] = typer.Argument(
        ...,
        help="Run directories (or store URLs: sqlite:///path, redis://host:6379/0?run=NAME); "
        "several give a comparison.",
        metavar="RUN_DIR...",
        show_default=False,
    ),
    output: Path = typer.Option(
        Path("report.html"), "--output", "-o", help="Where to write the HTML file."
    ),
    title: str | None = typer.Option(None, "--title", help="The report's title."),
) -> None:
    """Write one self-contained HTML report (works offline) of one run, or compare several.

    Reads the runs read-only: a search still running in a run directory is not disturbed.
    """
    from hyperhive.cli.main import err, relative

    try:
        from hyperhive.analysis import write_report

        path = write_report(runs if len(runs) > 1 else runs[0], output, title=title)
    except (ImportError, FileNotFoundError, ValueError, TypeError, OSError) as exc:
        if os.environ.get("HYPERHIVE_TRACEBACK") == "1":
            raise
        _fail(str(exc))
    size = path.stat().st_size / 1e6
    err.print(
        f"wrote the report of {len(runs)} run(s) to {escape(relative(path))} ({size:.1f} MB)",
        highlight=False,
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def dashboard(
    run: str = typer.Argument(
        ..., help="A run directory (or a store URL).", metavar="RUN_DIR", show_default=False
    ),
    port: int = typer.Option(8080, "--port", "-p", help="Port to serve on (0: any free one)."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; other than loopback opens it to the network."
    ),
) -> None:
    """Serve a live, read-only dashboard of a run (updated as trials end) until Ctrl-C."""
    from hyperhive.cli.main import err

    if not 0 <= port <= 65535:
        _fail(f"--port must be in [0, 65535], got {port}")
    try:
        from hyperhive.analysis.dashboard import Dashboard

        board = Dashboard(run, host=host, port=port)
    except (ImportError, FileNotFoundError, ValueError, TypeError, OSError) as exc:
        if os.environ.get("HYPERHIVE_TRACEBACK") == "1":
            raise
        _fail(f"cannot serve the dashboard of {run!r} on {host}:{port}: {exc}")
    if not _loopback(host):
        err.print(f"[yellow]warning:[/] the dashboard is reachable from the network on {host}")
    err.print(f"dashboard of {escape(run)} at {board.url} (Ctrl-C to stop)", highlight=False)
    with board:
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            pass


def demo_report(result: Any) -> None:
    """Write the demo run's report into its run directory and print where it is."""
    from hyperhive.cli import demo
    from hyperhive.cli.main import err, out, relative

    try:
        path = demo.write_report(result)
    except ImportError as exc:
        err.print(f"no HTML report: {escape(str(exc))}", highlight=False)
        return
    if path is not None:
        out.print(f"report: [bold]{escape(relative(path))}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the commands to the ``hyperhive`` application."""
    app.command()(report)
    app.command()(dashboard)
