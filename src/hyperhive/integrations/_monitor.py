"""What both framework callbacks share: reading the monitored value, keeping the best."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import hyperhive as hh

MODES = ("min", "max")


class Monitor:
    """Reports one monitored metric per epoch to the running trial and keeps its history.

    Args:
        monitor: the metric's name, as the framework logs it (e.g. ``"val_loss"``).
        mode: ``"min"`` or ``"max"``: which direction makes :attr:`best` better.

    Attributes:
        history: ``(epoch, value)`` per epoch reported, in order.
    """

    def __init__(self, monitor: str, mode: str = "min") -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be a metric name, got monitor={monitor!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be 'min' or 'max', got mode={mode!r}")
        self.monitor = monitor
        self.mode = mode
        self.history: list[tuple[int, float]] = []

    @property
    def best(self) -> float:
        """The best value reported so far (NaN before the first)."""
        values = [v for _, v in self.history if not math.isnan(v)]
        if not values:
            return math.nan
        return min(values) if self.mode == "min" else max(values)

    @property
    def last(self) -> float:
        """The latest value reported (NaN before the first)."""
        return self.history[-1][1] if self.history else math.nan

    def record(self, epoch: int, metrics: Mapping[str, Any]) -> bool:
        """Report ``metrics[monitor]`` for ``epoch``; True when the trial should stop.

        Raises:
            KeyError: the metric is not among ``metrics`` (the message lists them).
        """
        if self.monitor not in metrics:
            raise KeyError(
                f"monitor={self.monitor!r} is not among the logged metrics "
                f"{sorted(map(str, metrics))}; log it (e.g. self.log({self.monitor!r}, ...)) "
                "or pass the name of one of these"
            )
        value = float(_scalar(metrics[self.monitor]))
        self.history.append((int(epoch), value))
        hh.report(value, step=int(epoch))
        return hh.should_stop()


def _scalar(value: Any) -> Any:
    """A tensor or array of one element as a Python number; anything else unchanged."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
