"""The handle a running objective uses: ``hh.report``, ``hh.should_stop``, ``hh.current_trial``.

The executor binds a :class:`TrialContext` to the running trial through a context
variable, so these functions work unchanged in every executor. Outside a trial,
``report`` is a no-op that warns once, ``should_stop`` is False and
``current_trial`` returns None.
"""

from __future__ import annotations

import contextvars
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from hyperhive.trial.record import is_finite_number


class Channel(Protocol):
    """Carries reports from a running trial to the driver, and stop requests back."""

    def send_report(self, trial_id: int, step: int | None, value: Any, time: float) -> None:
        """Deliver one intermediate value (already validated)."""

    def stop_requested(self, trial_id: int) -> bool:
        """True once the driver (a stopper) asked this trial to end."""


class TrialContext:
    """What the running objective can learn about its trial.

    Attributes:
        id: the trial id.
        seed: a seed of its own, derived from the search seed and the id.
        config: the configuration being evaluated.
        channel: carries reports to the driver and stop requests back.
    """

    def __init__(
        self,
        id: int,
        seed: int | None,
        artifact_dir: Path | None,
        config: dict[str, Any],
        channel: Channel | None = None,
    ) -> None:
        self.id = id
        self.seed = seed
        self.config = config
        self.channel = channel
        self._artifact_dir = artifact_dir

    @property
    def artifact_dir(self) -> Path | None:
        """A folder of the trial's own, created on first use (None when the run keeps
        nothing on disk)."""
        if self._artifact_dir is not None:
            self._artifact_dir.mkdir(parents=True, exist_ok=True)
        return self._artifact_dir

    def __repr__(self) -> str:
        return f"TrialContext(id={self.id}, seed={self.seed}, artifact_dir={self._artifact_dir})"

    def report(self, value: float | Sequence[float], step: int | None = None) -> None:
        """Record an intermediate value (see :func:`report`)."""
        value = _check_report_value(value)
        if self.channel is not None:
            self.channel.send_report(self.id, step, value, time.time())

    def should_stop(self) -> bool:
        """True once a stopper wants this trial ended."""
        return bool(self.channel is not None and self.channel.stop_requested(self.id))


_current: contextvars.ContextVar[TrialContext | None] = contextvars.ContextVar(
    "hyperhive_trial", default=None
)
_warned_outside = False


def _check_report_value(value: Any) -> float | tuple[float, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out = tuple(float(v) for v in value)
        if not out:
            raise ValueError("hh.report(value=...) got an empty sequence")
        return out
    if isinstance(value, bool) or not is_finite_number(value) and not _is_nan_like(value):
        raise TypeError(
            f"hh.report(value=...) must be a float or a sequence of floats, got {value!r}"
        )
    return float(value)


def _is_nan_like(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def bind(ctx: TrialContext | None) -> contextvars.Token:
    """Bind ``ctx`` as the current trial (executors call this); returns a reset token."""
    return _current.set(ctx)


def unbind(token: contextvars.Token) -> None:
    """Undo :func:`bind`."""
    _current.reset(token)


def current_trial() -> TrialContext | None:
    """The trial the calling code runs in (id, seed, artifact_dir), or None outside one."""
    return _current.get()


def report(value: float | Sequence[float], step: int | None = None) -> None:
    """Record an intermediate value of the running trial (for example a validation loss per epoch).

    Args:
        value: a float, or a sequence of floats for several objectives.
        step: the step (epoch, iteration) the value belongs to.
    """
    global _warned_outside
    ctx = _current.get()
    if ctx is None:
        if not _warned_outside:
            warnings.warn("hh.report() called outside a trial; the value is ignored", stacklevel=2)
            _warned_outside = True
        return
    ctx.report(value, step)


def should_stop() -> bool:
    """True once a stopper wants the running trial ended; False outside a trial."""
    ctx = _current.get()
    return ctx.should_stop() if ctx is not None else False
