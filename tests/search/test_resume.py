from __future__ import annotations

import pytest

import hyperhive as hh

from .conftest import quadratic


def test_rerun_with_same_run_dir_continues(tmp_path, space):
    run_dir = tmp_path / "run"
    first = hh.search(quadratic, space, max_evals=10, run_dir=run_dir, seed=0)
    assert first.n_counted == 10
    second = hh.search(quadratic, space, max_evals=25, run_dir=run_dir)
    assert second.n_counted == 25
    assert [t.id for t in second.records][:10] == [t.id for t in first.records]
    assert [t.config for t in second.records][:10] == [t.config for t in first.records]
    assert second.seed == first.seed
    third = hh.search(quadratic, space, max_evals=25, run_dir=run_dir)
    assert third.n_counted == 25 and len(third.records) == 25
    csv = (run_dir / "results.csv").read_text().splitlines()
    assert len(csv) == 26


def test_resume_matches_an_uninterrupted_serial_run(tmp_path, space):
    whole = hh.search(quadratic, space, max_evals=20, run_dir=tmp_path / "a", seed=11)
    hh.search(quadratic, space, max_evals=8, run_dir=tmp_path / "b", seed=11)
    resumed = hh.search(quadratic, space, max_evals=20, run_dir=tmp_path / "b", seed=11)
    assert [t.config for t in resumed.records] == [t.config for t in whole.records]


def test_changed_space_or_direction_is_refused(tmp_path, space):
    run_dir = tmp_path / "run"
    hh.search(quadratic, space, max_evals=3, run_dir=run_dir, seed=0)
    other = space | hh.Space({"z": hh.Float(0.0, 1.0)})
    with pytest.raises(ValueError, match="different space"):
        hh.search(quadratic, other, max_evals=5, run_dir=run_dir)
    with pytest.raises(ValueError, match="direction"):
        hh.search(quadratic, space, direction="maximize", max_evals=5, run_dir=run_dir)
    assert hh.load(run_dir).n_counted == 3


def test_load_reads_without_resuming(tmp_path, space):
    run_dir = tmp_path / "run"
    res = hh.search(quadratic, space, max_evals=6, run_dir=run_dir, seed=0)
    loaded = hh.load(run_dir)
    assert loaded.best.id == res.best.id
    assert loaded.best.config == res.best.config
    assert loaded.seed == res.seed
    with pytest.raises(FileNotFoundError, match="no hyperhive run"):
        hh.load(tmp_path / "nothing")


def test_run_dir_keeps_metadata(tmp_path, space):
    run_dir = tmp_path / "run"
    hh.search(quadratic, space, max_evals=3, run_dir=run_dir, seed=None, optimizer="random")
    import json

    meta = json.loads((run_dir / "run.json").read_text())
    assert isinstance(meta["seed"], int)
    assert meta["optimizer"]["name"] == "random"
    assert meta["directions"] == ["minimize"]
    assert "numpy" in json.dumps(meta)
    assert hh.Space.from_json((run_dir / "space.json").read_text()) == space
    assert (run_dir / "driver.log").read_text()
