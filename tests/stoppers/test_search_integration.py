"""Stoppers hooked into the search loop: ``hh.search/hh.worker(..., stopper=...)``."""

from __future__ import annotations

import math
import time

import pytest

import hyperhive as hh
from hyperhive.stoppers import ASHA, Constant

MAX_STEPS = 9
SPACE = {"x": (0.0, 1.0)}


def curve(cfg: dict) -> float:
    """Report a loss per step that ranks as the final value does; return the last one.

    ``pause`` (seconds per step) gives a driver in another thread or process time to
    decide while the trial runs.
    """
    x = cfg["x"]
    value = math.nan
    for step in range(1, MAX_STEPS + 1):
        value = x + 1.0 / step
        hh.report(value, step=step)
        time.sleep(cfg.get("pause", 0.0))
        if hh.should_stop():
            break
    return value


def slow_curve(cfg: dict) -> float:
    return curve({**cfg, "pause": 0.02})


def _check_asha(result: hh.Result, exact: bool = True) -> None:
    stopped = [t for t in result.records if t.status.value == "stopped"]
    done = [t for t in result.records if t.status.value == "done"]
    assert stopped and done
    for t in stopped:
        last_step, last_value = t.reports[-1].step, t.reports[-1].value
        assert last_step < MAX_STEPS
        assert t.objective == pytest.approx(last_value)
    for t in done:
        assert t.reports[-1].step == MAX_STEPS
    if exact:  # decisions on time: the best final configuration was not stopped
        best = min(result.records, key=lambda t: t.config["x"])
        assert best.status.value == "done"


@pytest.mark.parametrize("executor", ["serial", "thread"])
def test_asha_stops_bad_trials(executor: str) -> None:
    result = hh.search(
        curve if executor == "serial" else slow_curve,
        SPACE,
        optimizer="random",
        max_evals=24,
        workers=1 if executor == "serial" else 2,
        executor=executor,
        seed=3,
        stopper=ASHA(max_steps=MAX_STEPS),
    )
    _check_asha(result, exact=executor == "serial")


def test_process_executor() -> None:
    result = hh.search(
        slow_curve,
        SPACE,
        optimizer="random",
        max_evals=6,
        workers=2,
        executor="process",
        seed=1,
        stopper=Constant(2),
    )
    assert all(t.status.value == "stopped" for t in result.records)
    # the stop request reaches the worker process while the trial runs (a late one
    # lets it run a few steps more, never to the end)
    assert all(2 <= t.reports[-1].step < MAX_STEPS for t in result.records)


def test_stopper_by_name() -> None:
    result = hh.search(curve, SPACE, max_evals=5, executor="serial", seed=0, stopper="constant")
    # Constant() stops every trial at its default step
    assert all(t.status.value == "stopped" for t in result.records)


@pytest.mark.parametrize("bad", ["nope", 3, object()])
def test_bad_stopper_raises(bad: object) -> None:
    with pytest.raises((ValueError, TypeError), match="stopper"):
        hh.search(curve, SPACE, max_evals=2, stopper=bad)


def test_no_stopper_runs_to_the_end() -> None:
    result = hh.search(curve, SPACE, max_evals=4, executor="serial", seed=0)
    assert all(t.reports[-1].step == MAX_STEPS for t in result.records)
