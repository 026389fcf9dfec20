"""Stoppers hooked into the search loop: ``hh.search/hh.worker(..., stopper=...)``."""

from __future__ import annotations

import math
import threading
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


def _rung_count(run_dir, rung: int) -> int:
    from hyperhive.storage import RunDir
    from hyperhive.storage.rungs import rungs_for

    return rungs_for(RunDir(run_dir).store).count("asha0", rung)


def test_peers_share_rungs(tmp_path) -> None:
    results, errors = [], []

    def peer(i: int) -> None:
        try:
            results.append(
                hh.worker(
                    slow_curve,
                    SPACE,
                    run_dir=tmp_path,
                    max_evals=10,
                    optimizer="random",
                    executor="serial",
                    peer=f"p{i}",
                    poll=0.05,
                    stopper=ASHA(max_steps=MAX_STEPS),
                )
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=peer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 2
    trials = results[-1].records
    assert {t.peer for t in trials} == {"p0", "p1"}
    # one rung table for the run: every trial's first report is at rung 1, whichever peer ran it
    assert _rung_count(tmp_path, 1) == len([t for t in trials if t.reports]) == 10
    assert any(t.status.value == "stopped" for t in trials)


def test_resume_keeps_the_rungs(tmp_path) -> None:
    kw = {"optimizer": "random", "executor": "serial", "seed": 2, "run_dir": tmp_path}
    hh.search(curve, SPACE, max_evals=6, stopper=ASHA(max_steps=MAX_STEPS), **kw)
    assert _rung_count(tmp_path, 1) == 6
    result = hh.search(curve, SPACE, max_evals=12, stopper="asha", **kw)
    assert len(result.records) == 12
    assert _rung_count(tmp_path, 1) == 12


def test_steps_column_and_best_rule() -> None:
    result = hh.search(
        curve,
        SPACE,
        optimizer="random",
        max_evals=12,
        executor="serial",
        seed=5,
        stopper=ASHA(max_steps=MAX_STEPS),
    )
    frame = result.trials.set_index("id")
    for t in result.records:
        assert frame.loc[t.id, "steps"] == t.reports[-1].step
    # the best is a trial that ran to max_steps (stopped ones are not done)
    assert result.best.status.value == "done"
    assert frame.loc[result.best.id, "steps"] == MAX_STEPS
    without = hh.search(lambda c: c["x"], SPACE, max_evals=2, executor="serial", seed=0)
    assert without.trials["steps"].isna().all()


def test_best_falls_back_to_stopped_trials() -> None:
    result = hh.search(curve, SPACE, max_evals=4, executor="serial", seed=0, stopper=Constant(2))
    assert not result.done
    best = min(result.records, key=lambda t: t.objective)
    assert result.best is not None and result.best.id == best.id


def test_run_report_stops_a_hopeless_trial(tmp_path) -> None:
    run = hh.Run(SPACE, run_dir=tmp_path, optimizer="random", seed=0, stopper=ASHA(max_steps=9))
    good = run.ask()
    assert run.report(good, 0.1, step=1) is False
    assert run.report(good.id, 0.05, step=3) is False
    run.tell(good, 0.01)
    bad = run.ask()
    stopped_at = None
    for step in (1, 2, 3):
        if run.report(bad, 5.0, step=step):
            stopped_at = step
            break
    assert stopped_at is not None
    run.tell(bad, 5.0, status="stopped")
    trials = {t.id: t for t in run.result().records}
    assert [r.step for r in trials[bad.id].reports][-1] == stopped_at
    assert trials[bad.id].status.value == "stopped"
    # without a stopper, report only journals
    plain = hh.Run(SPACE, optimizer="random", seed=0)
    t = plain.ask()
    assert plain.report(t, 1.0, step=1) is False
    with pytest.raises(ValueError, match="step"):
        plain.report(t, 1.0, step=0)


def test_best_among_stopped_prefers_the_highest_step() -> None:
    run = hh.Run(SPACE, optimizer="random", seed=0)
    early, late = run.ask(), run.ask()
    run.report(early, 0.1, step=1)
    run.tell(early, 0.1, status="stopped")
    for step in (1, 2, 3):
        run.report(late, 0.5, step=step)
    run.tell(late, 0.5, status="stopped")
    result = run.result()
    assert result.best is not None and result.best.id == late.id
    assert result.best.objective == 0.5 and result.best.reason == "stopped early by a stopper"


def test_a_stopper_that_needs_max_steps_fails_before_the_search() -> None:
    with pytest.raises(ValueError, match="stopper='hyperband'.*max_steps"):
        hh.search(curve, SPACE, max_evals=2, stopper="hyperband")
    result = hh.search(
        curve,
        SPACE,
        max_evals=12,
        executor="serial",
        seed=0,
        stopper=hh.stoppers.Hyperband(max_steps=MAX_STEPS),
    )
    assert {"done", "stopped"} <= set(result.trials["status"])


def both(cfg: dict) -> tuple[float, float]:
    """Two objectives that agree: a poor trial is dominated at every rung."""
    value = (math.nan, math.nan)
    for step in range(1, MAX_STEPS + 1):
        value = (cfg["x"] + 1.0 / step, 2 * cfg["x"] + 1.0 / step)
        hh.report(value, step=step)
        if hh.should_stop():
            break
    return value


def test_several_objectives() -> None:
    result = hh.search(
        both,
        SPACE,
        direction=["minimize", "minimize"],
        optimizer="random",
        max_evals=16,
        executor="serial",
        seed=1,
        stopper="asha",
    )
    stopped = [t for t in result.records if t.status.value == "stopped"]
    assert stopped
    assert all(t.objective == tuple(t.reports[-1].value) for t in stopped)


def test_redis_peers_share_rungs(tmp_path) -> None:
    from hyperhive.storage import open_store
    from hyperhive.storage.rungs import rungs_for
    from hyperhive.testing.redis_server import redis_server_or_skip

    server = redis_server_or_skip()
    try:
        results = []

        def peer(i: int) -> None:
            results.append(
                hh.worker(
                    slow_curve,
                    SPACE,
                    store=server.url,
                    run_dir=tmp_path / "shared",
                    max_evals=8,
                    optimizer="random",
                    executor="serial",
                    peer=f"p{i}",
                    poll=0.05,
                    stopper=ASHA(max_steps=MAX_STEPS),
                )
            )

        threads = [threading.Thread(target=peer, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == 2
        trials = results[-1].records
        assert {t.peer for t in trials} == {"p0", "p1"}
        rungs = rungs_for(open_store(server.url, run="shared"))
        assert rungs.count("asha0", 1) == 8
        assert any(t.status.value == "stopped" for t in trials)
    finally:
        server.stop()
