"""Readers never disturb a run: a search of 8 process workers while a report is built
and the dashboard polls every 200 ms ends with its exact budget and no error."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("plotly")

import hyperhive as hh  # noqa: E402
from hyperhive.analysis import build_report  # noqa: E402
from hyperhive.analysis.dashboard import Dashboard  # noqa: E402

BUDGET = 200


def quick(config: dict) -> float:
    time.sleep(0.05)
    return (config["x"] - 0.2) ** 2 + config["y"]


SPACE = hh.Space({"x": hh.Float(0.0, 1.0), "y": hh.Float(0.0, 1.0)})


def test_search_with_readers_keeps_its_exact_budget(tmp_path: Path) -> None:
    run_dir = tmp_path / "busy"
    hh.search(quick, SPACE, max_evals=8, optimizer="random", seed=0, run_dir=run_dir)
    stop, ready = threading.Event(), threading.Barrier(3, timeout=120)
    errors: list[BaseException] = []
    reads = {"reports": 0, "polls": 0, "trials_seen": 0}

    def reporter() -> None:
        try:
            build_report(run_dir)  # warm up (imports) before the search resumes
            ready.wait()
            while not stop.is_set():
                build_report(run_dir)
                reads["reports"] += 1
                time.sleep(0.1)
        except BaseException as exc:
            errors.append(exc)

    def poller() -> None:
        try:
            with Dashboard(run_dir, port=0, refresh=0.2, slow_every=1.0) as board:
                ready.wait()
                while not stop.is_set():
                    with urllib.request.urlopen(board.url + "api/state", timeout=30) as r:
                        state = json.loads(r.read())
                    reads["polls"] += 1
                    reads["trials_seen"] = max(reads["trials_seen"], state["trials"])
                    time.sleep(0.2)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=f) for f in (reporter, poller)]
    for thread in readers:
        thread.start()
    ready.wait()
    try:
        result = hh.search(
            quick,
            SPACE,
            max_evals=BUDGET,
            workers=8,
            executor="process",
            optimizer="random",
            seed=0,
            run_dir=run_dir,
        )
        during = dict(reads)
        deadline = time.monotonic() + 60  # the dashboard catches up with the finished run
        while reads["trials_seen"] < BUDGET and time.monotonic() < deadline and not errors:
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert errors == []
    assert result.n_counted == BUDGET == len(result.records)
    assert result.count("done") == BUDGET
    assert during["polls"] >= 3 and during["reports"] >= 1, during  # read while it ran
    assert reads["trials_seen"] == BUDGET
    assert len(hh.load(run_dir)) == BUDGET  # the journal is intact
