"""The options of a search and their validation, in one place for ``hh.search``,
``hh.worker``, ``hh.Run`` and the command line.

Every check raises before any work starts, with a message that names the
parameter and the value it got.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperhive.optimizers.base import DIRECTIONS, normalize_directions
from hyperhive.search.callbacks import CallbackLike

if TYPE_CHECKING:
    from hyperhive.executors import Executor
    from hyperhive.space import Space
    from hyperhive.stoppers import Stopper

__all__ = [
    "DIRECTIONS",
    "LoopOptions",
    "ProgressHook",
    "check_non_negative",
    "check_positive",
    "check_initial_points",
    "check_objective",
    "check_run_meta",
    "check_seed",
    "check_stopper",
    "normalize_directions",
    "progress_hook",
    "thread_limits",
]

logger = logging.getLogger("hyperhive")

#: Executors whose trials run in the driver process (its thread pools stay as they are).
IN_DRIVER = ("serial", "thread")

ProgressHook = Callable[[dict[str, Any]], None]
SlotsPerTrial = Callable[[dict[str, Any]], int]


def check_positive(name: str, value: Any, *, integer: bool, allow_none: bool = True) -> None:
    """Raise ValueError unless ``value`` is a positive (finite) number, or None when allowed."""
    if value is None and allow_none:
        return
    ok = not isinstance(value, bool) and (
        isinstance(value, int) if integer else isinstance(value, int | float)
    )
    if not ok or value <= 0 or (not integer and not math.isfinite(value)):
        kind = "a positive integer" if integer else "a positive number"
        none = " or None" if allow_none else ""
        raise ValueError(f"{name} must be {kind}{none}, got {name}={value!r}")


def check_non_negative(name: str, value: Any, *, integer: bool) -> None:
    """Raise ValueError unless ``value`` is a non-negative (finite) number."""
    ok = not isinstance(value, bool) and (
        isinstance(value, int) if integer else isinstance(value, int | float)
    )
    if not ok or value < 0 or (not integer and not math.isfinite(value)):
        kind = "a non-negative integer" if integer else "a non-negative number"
        raise ValueError(f"{name} must be {kind}, got {name}={value!r}")


@dataclass
class LoopOptions:
    """What the one search loop needs to know besides its parts (validated by :meth:`check`).

    Attributes:
        max_evals: counted trials to run (exact), None for no limit.
        timeout: wall-time limit in seconds.
        trial_timeout: per-trial limit in seconds.
        max_failures: stop once this many trials failed or timed out.
        max_retries: how often a trial whose worker died is re-run (the next death
            ends it ``failed``).
        callbacks: functions ``cb(trial, state)`` called as each trial ends.
        slots_per_trial: worker slots a configuration's trial occupies (None: one).
        stopper: None, a stopper's name or a :class:`~hyperhive.stoppers.Stopper`
            (resolved to an instance or None by :meth:`check`).
    """

    max_evals: int | None = 100
    timeout: float | None = None
    trial_timeout: float | None = None
    max_failures: int | None = None
    max_retries: int = 1
    callbacks: list[CallbackLike] = field(default_factory=list)
    slots_per_trial: SlotsPerTrial | None = None
    stopper: Any = None

    def check(self) -> LoopOptions:
        """Validate every option; returns self.

        Raises:
            ValueError: a budget or limit out of range, or no way for the search to end.
            TypeError: a callback or ``slots_per_trial`` that is not callable.
        """
        check_positive("max_evals", self.max_evals, integer=True)
        check_positive("timeout", self.timeout, integer=False)
        check_positive("trial_timeout", self.trial_timeout, integer=False)
        check_positive("max_failures", self.max_failures, integer=True)
        check_non_negative("max_retries", self.max_retries, integer=True)
        self.callbacks = list(self.callbacks)
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables cb(trial, state), got {cb!r}")
        if self.slots_per_trial is not None and not callable(self.slots_per_trial):
            raise TypeError(
                "slots_per_trial must be a function of a configuration, "
                f"got {self.slots_per_trial!r}"
            )
        self.stopper = check_stopper(self.stopper)
        if self.max_evals is None and self.timeout is None and not self.callbacks:
            raise ValueError("give max_evals or timeout (or a stopping callback); both are None")
        return self


def check_stopper(stopper: Any) -> Stopper | None:
    """The stopper a search uses (None, a registered name or an instance), or a clear error.

    Raises:
        ValueError: an unknown name (the message names ``stopper`` and the valid names).
        TypeError: anything but None, a string or a :class:`~hyperhive.stoppers.Stopper`.
    """
    from hyperhive.stoppers import available_stoppers, get_stopper

    try:
        resolved = get_stopper(stopper)
    except ValueError:
        valid = ", ".join(repr(n) for n in available_stoppers())
        raise ValueError(
            f"stopper must be None, a Stopper or one of {valid}, got stopper={stopper!r}"
        ) from None
    except TypeError:
        raise TypeError(
            f"stopper must be None, a name or a hyperhive.stoppers.Stopper, got stopper={stopper!r}"
        ) from None
    if resolved is not None:  # a stopper that cannot be bound fails now, not at the start
        try:
            copy.deepcopy(resolved).setup("minimize")
        except ValueError as exc:
            raise ValueError(
                f"stopper={stopper!r} cannot be used as given: {exc}; pass an instance "
                "with max_steps, e.g. hh.stoppers.Hyperband(max_steps=27)"
            ) from None
    return resolved


def check_initial_points(points: Any, space: Space) -> list[dict[str, Any]]:
    """Validate user-given starting configurations against ``space``.

    Returns:
        The configurations, normalized by :meth:`Space.validate`.

    Raises:
        TypeError: If ``points`` is not a list of dicts.
        ValueError: Naming the first invalid point and why.
    """
    if points is None:
        return []
    if isinstance(points, Mapping) or not isinstance(points, Sequence):
        raise TypeError(
            f"initial_points must be a list of configurations (dicts), got {type(points).__name__}"
        )
    out = []
    for i, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise TypeError(f"initial_points[{i}] must be a dict, got {type(point).__name__}")
        try:
            out.append(space.validate(point))
        except (ValueError, TypeError) as err:
            raise ValueError(f"initial_points[{i}] is not a valid configuration: {err}") from None
    return out


def check_seed(seed: Any) -> None:
    """Raise ValueError unless ``seed`` is an integer or None."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ValueError(f"seed must be an integer or None, got seed={seed!r}")


def check_objective(objective: Any) -> None:
    """Raise TypeError unless ``objective`` is callable."""
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")


def progress_hook(progress: Any) -> ProgressHook | None:
    """``progress=True`` -> a live display, a callable as is, False/None -> None."""
    if progress is True:
        from hyperhive.search.progress import ProgressDisplay

        return ProgressDisplay()
    if progress is False or progress is None:
        return None
    if callable(progress):
        hook: ProgressHook = progress
        return hook
    raise TypeError(f"progress must be a bool or a callable, got {progress!r}")


def close_progress(hook: ProgressHook | None) -> None:
    """Close a live display made by :func:`progress_hook` (a user's function is left alone)."""
    close = getattr(hook, "close", None)
    if callable(close):
        close()


@contextlib.contextmanager
def thread_limits(executor: Executor) -> Iterator[None]:
    """One BLAS/OpenMP thread in the driver while workers run in other processes.

    The workers use the cores; an optimizer's linear algebra spreading over them too
    would slow both. Serial and thread executors run trials in the driver: unchanged.
    """
    if executor.name in IN_DRIVER:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def check_run_meta(
    recorded: Mapping[str, Any],
    space: Space,
    directions: list[str],
    seed: int | None,
    where: str,
    hint: str,
) -> int:
    """Check a recorded run (``space``, ``directions``, ``seed``) against the given one.

    Args:
        recorded: the run's record (``space`` as a dict, ``directions``, ``seed``).
        space: the space given now.
        directions: the directions given now.
        seed: the seed given now (None: take the recorded one).
        where: names the run in messages (``"run_dir 'runs/a'"``, ``"the store"``).
        hint: what the user can do instead (appended to the errors).

    Returns:
        The run's seed (the recorded one wins; a different given one is logged).

    Raises:
        ValueError: the run is over another space or with other directions.
    """
    from hyperhive.space import Space

    old_space = Space.from_dict(recorded["space"])
    if old_space != space:
        raise ValueError(
            f"{where} holds a search over a different space (recorded parameters: "
            f"{old_space.names}, given: {space.names}); {hint}"
        )
    old_dirs = list(recorded.get("directions", []))
    if old_dirs != directions:
        raise ValueError(
            f"{where} holds a search with direction={old_dirs!r}, got direction={directions!r}; "
            f"{hint}"
        )
    run_seed = int(recorded["seed"])
    if seed is not None and int(seed) != run_seed:
        logger.warning("%s was created with seed=%d; seed=%d ignored", where, run_seed, seed)
    return run_seed
