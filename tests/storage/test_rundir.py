from __future__ import annotations

import json
import logging
import os

import pandas as pd
import pytest

from hyperhive.storage import RunDir, SQLiteStore, atomic_write_bytes, atomic_write_text
from hyperhive.storage.rundir import environment_versions
from hyperhive.trial import Trial, TrialStatus, end_event, submit_event


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two ü")
    assert target.read_text(encoding="utf-8") == "two ü"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert _leftovers(target.parent) == []


def test_atomic_write_failure_keeps_old_content(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")

    def broken(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_layout_and_exists(tmp_path):
    path = tmp_path / "run"
    assert not RunDir.exists(path)
    rd = RunDir(path)
    assert path.is_dir() and not RunDir.exists(path)
    rd.store.append([submit_event(None, {"x": 1})])
    assert RunDir.exists(path)
    assert rd.journal_path == path / "journal.sqlite"
    assert isinstance(rd.store, SQLiteStore) and rd.store is rd.store
    folder = rd.artifact_dir(3)
    assert folder == path / "trials" / "3" and folder.is_dir()
    assert rd.artifact_dir(4, create=False) == path / "trials" / "4"
    assert not (path / "trials" / "4").exists()
    with pytest.raises(ValueError):
        rd.artifact_dir(-1)
    rd.close()
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        RunDir(tmp_path / "file")


def test_json_round_trip_is_atomic(tmp_path):
    rd = RunDir(tmp_path)
    obj = {"params": {"x": [0.0, 1.0]}, "nan": float("nan"), "s": "é"}
    path = rd.write_json("space.json", obj)
    assert path == tmp_path / "space.json"
    assert rd.read_json("space.json") == {**obj, "nan": None}
    json.loads(path.read_text())  # strict JSON on disk
    assert _leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError):
        rd.read_json("missing.json")
    for bad in ("../x.json", "a/b.json", "", ".."):
        with pytest.raises(ValueError):
            rd.write_json(bad, {})
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        rd.read_json("broken.json")


def test_run_meta(tmp_path):
    rd = RunDir(tmp_path)
    assert rd.read_run_meta() is None
    written = rd.write_run_meta(
        directions=["minimize", "maximize"],
        seed=123,
        optimizer={"name": "random", "n_initial": 5},
        note="hi",
    )
    meta = rd.read_run_meta()
    assert meta == written
    assert meta["directions"] == ["minimize", "maximize"] and meta["seed"] == 123
    assert meta["optimizer"] == {"name": "random", "n_initial": 5} and meta["note"] == "hi"
    assert isinstance(meta["created"], float) and meta["created_utc"].endswith("+00:00")
    assert {"hyperhive", "python", "numpy", "pandas"} <= set(meta["versions"])
    assert rd.write_run_meta(directions=["minimize"], seed=1, optimizer="tpe")["optimizer"] == {
        "name": "tpe"
    }
    assert environment_versions()["pandas"] == pd.__version__


def test_results_csv(tmp_path):
    rd = RunDir(tmp_path)
    ids = rd.store.append([submit_event(None, {"x": float(i)}, time=1.0) for i in range(3)])
    for tid in ids[:2]:
        trial = Trial(id=tid, config={}, status=TrialStatus.DONE, objective=tid * 2.0)
        rd.store.append([end_event(trial)])
    rd.write_run_meta(directions=["minimize"], seed=0)
    path = rd.export_results()
    df = pd.read_csv(path)
    assert list(df["id"]) == ids
    assert list(df["status"]) == ["done", "done", "running"]
    assert df["objective"].tolist()[:2] == [0.0, 2.0] and pd.isna(df["objective"][2])
    assert list(df["p:x"]) == [0.0, 1.0, 2.0]
    assert _leftovers(tmp_path) == []
    rd.close()


def test_attach_log(tmp_path):
    rd = RunDir(tmp_path)
    logger = logging.getLogger("hyperhive.test_rundir")
    logger.setLevel(logging.WARNING)
    handler = rd.attach_log(logger)
    try:
        assert rd.attach_log(logger) is handler
        logger.info("hello %d", 42)
        handler.flush()
        text = rd.log_path.read_text()
        assert "INFO" in text and "hello 42" in text
    finally:
        RunDir.detach_log(logger, handler)
    assert handler not in logger.handlers
