from __future__ import annotations

import math
import time

import pandas as pd
import pytest

from hyperhive.storage import trials_frame
from hyperhive.storage.frame import TAIL_COLUMNS
from hyperhive.trial import Trial, TrialStatus


def _trials():
    a = Trial(
        id=0,
        config={"lr": 0.1, "opt": "adam"},
        status=TrialStatus.DONE,
        objective=1.5,
        metadata={"acc": 0.9},
        submitted=10.0,
        started=11.0,
        finished=13.5,
        worker="w0",
        host="h",
    )
    b = Trial(
        id=1,
        config={"lr": 0.2, "momentum": 0.9},
        status=TrialStatus.FAILED,
        reason="ValueError: x",
        submitted=12.0,
        attempt=1,
        retry_of=0,
        peer="p1",
    )
    return [a, b]


def test_columns_single_objective():
    df = trials_frame(_trials(), 1)
    assert list(df.columns) == [
        "id",
        "status",
        "objective",
        "p:lr",
        "p:opt",
        "p:momentum",
        "m:acc",
        *TAIL_COLUMNS,
    ]
    assert df["id"].tolist() == [0, 1]
    assert df["status"].tolist() == ["done", "failed"]
    assert df["objective"][0] == 1.5 and math.isnan(df["objective"][1])
    assert math.isnan(df["p:momentum"][0]) and df["p:momentum"][1] == 0.9
    assert pd.isna(df["p:opt"][1]) and df["p:opt"][0] == "adam"
    assert df["duration"][0] == 2.5 and math.isnan(df["duration"][1])
    assert df["submitted"].dtype == "float64" and df["finished"].dtype == "float64"
    assert df["attempt"].tolist() == [0, 1]
    assert pd.isna(df["retry_of"][0]) and df["retry_of"][1] == 0
    assert df["reason"][1] == "ValueError: x" and df["peer"][1] == "p1"


def test_multi_objective_and_constraints():
    t0 = Trial(id=5, config={"x": 1}, status=TrialStatus.DONE, objective=(1.0, 2.0))
    t0.constraints = (0.5,)
    t1 = Trial(id=6, config={"x": 2}, status=TrialStatus.DONE, objective=(3.0, -4.0))
    t1.constraints = (-1.0, 2.0)
    t2 = Trial(id=7, config={"x": 3}, status=TrialStatus.RUNNING)
    df = trials_frame([t0, t1, t2], 2)
    assert list(df.columns[:6]) == ["id", "status", "objective_0", "objective_1", "p:x", "c:0"]
    assert "objective" not in df.columns
    assert df["objective_1"].tolist()[:2] == [2.0, -4.0] and math.isnan(df["objective_0"][2])
    assert df["c:0"].tolist()[:2] == [0.5, -1.0]
    assert math.isnan(df["c:1"][0]) and df["c:1"][1] == 2.0
    assert list(df.columns[7:]) == list(TAIL_COLUMNS)


def test_zero_trials():
    df = trials_frame([], 1)
    assert len(df) == 0
    assert list(df.columns) == ["id", "status", "objective", *TAIL_COLUMNS]
    df3 = trials_frame(iter([]), 3)
    assert list(df3.columns[:5]) == ["id", "status", "objective_0", "objective_1", "objective_2"]
    with pytest.raises(ValueError):
        trials_frame([], 0)


def test_ten_thousand_trials_fast():
    trials = [
        Trial(
            id=i,
            config={"x": i / 10, "c": "ab"[i % 2], **({"inner": i} if i % 3 else {})},
            status=TrialStatus.DONE,
            objective=float(i),
            metadata={"acc": 0.5},
            started=1.0,
            finished=2.0,
        )
        for i in range(10_000)
    ]
    t0 = time.perf_counter()
    df = trials_frame(trials, 1)
    assert time.perf_counter() - t0 < 1.0
    assert len(df) == 10_000 and df["p:inner"].isna().sum() == 3334
