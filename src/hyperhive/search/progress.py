"""A live progress display for the terminal (rich)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ProgressDisplay:
    """Shows counted, failed and running trials, the best value, elapsed time and utilization."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self.console = Console(stderr=True)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def render(self, p: Mapping[str, Any]) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        total = p.get("max_evals")
        counted = f"{p['counted']}" + (f"/{total}" if total else "")
        best = p.get("best")
        if isinstance(best, float):
            best = f"{best:.6g}"
        table.add_row(
            f"[bold]trials[/] {counted}",
            f"[red]failed[/] {p['failures']}",
            f"[cyan]running[/] {p['running']}",
            f"[green]best[/] {best}",
            f"[bold]elapsed[/] {p['elapsed']:.1f}s",
            f"[bold]utilization[/] {100 * p['utilization']:.0f}%",
        )
        return table

    def __call__(self, p: Mapping[str, Any]) -> None:
        self.live.update(self.render(p))

    def close(self) -> None:
        """Stop the live display (its last state stays on screen)."""
        self.live.stop()
