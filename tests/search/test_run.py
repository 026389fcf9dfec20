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


def test_initial_points_come_first_once(tmp_path, space):
    good = {"x": 1.0, "y": -2.0}
    run = hh.Run(
        space, run_dir=tmp_path / "ip", seed=0, initial_points=[good, {"x": 0.0, "y": 0.0}]
    )
    first = run.ask()
    assert first.config == good
    run.tell(first, quadratic(first.config))
    # reopened with the same points: the one already in the run is not asked again
    again = hh.Run(space, run_dir=tmp_path / "ip", initial_points=[good, {"x": 0.0, "y": 0.0}])
    assert again.ask().config == {"x": 0.0, "y": 0.0}
    assert again.ask().config not in (good, {"x": 0.0, "y": 0.0})
    with pytest.raises(ValueError, match=r"initial_points\[0\]"):
        hh.Run(space, initial_points=[{"x": 99.0, "y": 0.0}])


def test_warm_start_feeds_the_optimizer_not_the_run(tmp_path, space):
    old = hh.search(quadratic, space, max_evals=12, seed=1, run_dir=tmp_path / "old")
    run = hh.Run(space, run_dir=tmp_path / "new", optimizer="bo", warm_start=tmp_path / "old")
    assert run.optimizer.data.n_prior == 12
    trial = run.ask()
    run.tell(trial, quadratic(trial.config))
    res = run.result()
    assert res.n_counted == 1 and len(old.records) == 12


def test_result_incumbent_follows_the_optimizer(space):
    """``incumbent="mean"``: the recommended trial is the one of best posterior mean."""
    res_best = hh.search(quadratic, space, max_evals=20, seed=2, optimizer="bo")
    assert res_best.incumbent is res_best.best  # "best": the best observed

    def noisy(config):
        import random

        return quadratic(config) + random.Random(str(config)).gauss(0.0, 3.0)

    opt = hh.optimizers.BO(seed=2, incumbent="mean")
    res = hh.search(noisy, space, max_evals=25, seed=2, optimizer=opt)
    chosen = opt.incumbent()
    assert chosen is not None and res.incumbent is not None
    assert res.incumbent.id == chosen.id
    assert res.incumbent.status == hh.TrialStatus.DONE
    # a multi-objective run has no single incumbent
    two = hh.Run(space, direction=["minimize", "minimize"], seed=0)
    t = two.ask()
    two.tell(t, (1.0, 2.0))
    with pytest.raises(ValueError, match="pareto_front"):
        _ = two.result().incumbent
