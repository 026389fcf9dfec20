from __future__ import annotations

import pytest

import hyperhive as hh

from .conftest import quadratic


def test_ask_tell_is_durable(tmp_path, space):
    run = hh.Run(space, run_dir=tmp_path / "arr", seed=3)
    for _ in range(5):
        trial = run.ask()
        assert trial.seed is not None
        run.tell(trial, quadratic(trial.config))
    pending = run.ask()
    reopened = hh.Run(space, run_dir=tmp_path / "arr")
    assert reopened.seed == 3
    res = reopened.result()
    assert res.n_counted == 5
    assert res.count("running") == 1
    reopened.tell(pending.id, quadratic(pending.config))
    assert hh.load(tmp_path / "arr").n_counted == 6


def test_two_runs_share_one_directory(tmp_path, space):
    a = hh.Run(space, run_dir=tmp_path / "r", seed=1)
    b = hh.Run(space, run_dir=tmp_path / "r")
    ta, tb = a.ask(), b.ask()
    assert ta.id != tb.id
    a.tell(ta, 1.0)
    b.tell(tb, 2.0)
    assert a.result().n_counted == 2
    assert a.result().best.id == ta.id


def test_tell_errors_and_forced_status(tmp_path, space):
    run = hh.Run(space, run_dir=None, seed=0)
    with pytest.raises(ValueError, match="unknown trial"):
        run.tell(99, 1.0)
    t = run.ask()
    rec = run.tell(t, float("nan"))
    assert rec.status == hh.TrialStatus.FAILED
    with pytest.raises(ValueError, match="already ended"):
        run.tell(t, 1.0)
    t2 = run.ask()
    assert run.tell(t2, status="failed", reason="job crashed").reason == "job crashed"
