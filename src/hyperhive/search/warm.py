"""Starting a search from an earlier run: ``warm_start`` (``initial_points`` are checked in
:mod:`hyperhive.search.options`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperhive.trial import Trial

if TYPE_CHECKING:
    from hyperhive.search.result import Result
    from hyperhive.space import Space

__all__ = ["adapt_config", "warm_trials"]

logger = logging.getLogger("hyperhive")


def adapt_config(config: Mapping[str, Any], space: Space) -> dict[str, Any] | None:
    """``config`` made valid in ``space``, or None when it cannot be.

    Parameters the space lacks are dropped, inactive ones removed, and active
    ones the configuration lacks take their default; a value outside its new
    domain, or a forbidden result, gives None.
    """
    params = space.params
    cfg = {k: v for k, v in config.items() if k in params}
    try:
        for _ in range(len(params) + 1):  # activity settles in at most one pass per level
            changed = False
            for name, p in params.items():
                active = space.is_active(name, cfg)
                if active and name not in cfg:
                    cfg[name] = p.default_value
                    changed = True
                elif not active and name in cfg:
                    del cfg[name]
                    changed = True
            if not changed:
                break
        return space.validate(cfg)
    except (ValueError, TypeError):  # a value outside its new domain
        return None


def warm_trials(source: Any, space: Space, directions: Sequence[str]) -> list[Trial]:
    """Finished trials of an earlier run, adapted to ``space``, for ``Optimizer.warm_start``.

    Args:
        source: A run directory (path), a :class:`~hyperhive.search.result.Result`
            or a sequence of :class:`~hyperhive.trial.Trial`.
        space: The new search space.
        directions: The new objective directions (their number must match).

    Returns:
        Trials that counted in the old run (done, failed, timed out, stopped),
        with configurations valid in the new space (the others are dropped) and
        negative ids, so they never clash with the new run's trials.

    Raises:
        ValueError: If the old run has another number of objectives.
        FileNotFoundError: If the directory holds no run.
    """
    old_directions: list[str] | None = None
    if isinstance(source, str | Path):
        from hyperhive.search.reader import load

        source = load(source)
    if hasattr(source, "records") and hasattr(source, "directions"):
        result: Result = source
        old_directions = list(result.directions)
        trials = list(result.records)
    else:
        trials = list(source)
    if old_directions is not None and len(old_directions) != len(directions):
        raise ValueError(
            f"warm_start run has {len(old_directions)} objective(s) but this search has "
            f"{len(directions)}"
        )
    if old_directions is not None and old_directions != list(directions):
        logger.warning(
            "warm_start run has direction=%s, this search %s: values are taken as they are",
            old_directions,
            list(directions),
        )
    out: list[Trial] = []
    dropped = 0
    for t in sorted(trials, key=lambda t: (t.finished or 0.0, t.id)):
        if not (t.status.finished and t.status.counted):
            continue
        cfg = adapt_config(t.config, space)
        if cfg is None:
            dropped += 1
            continue
        out.append(replace(t, id=-1 - len(out), config=cfg))
    if dropped:
        logger.info(
            "warm_start: %d old trial(s) do not fit the new space and were dropped", dropped
        )
    return out
