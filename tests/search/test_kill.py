"""A driver killed with SIGKILL at random moments, then re-run, loses and repeats nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import hyperhive as hh

DRIVER = textwrap.dedent(
    """
    import os, sys, time
    import hyperhive as hh

    log = sys.argv[2]

    def objective(config):
        trial = hh.current_trial()
        time.sleep(0.02)
        with open(log, "a") as f:
            f.write(f"{trial.id}\\n")
        return (config["x"] - 0.3) ** 2

    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    if __name__ == "__main__":
        hh.search(objective, space, max_evals=int(sys.argv[3]), workers=int(sys.argv[4]),
                  executor=sys.argv[5], run_dir=sys.argv[1], seed=0)
    """
)


def _drive(tmp_path, executor: str, workers: int, max_evals: int, kills: int) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    run_dir, log = tmp_path / "run", tmp_path / "evals.log"
    args = [
        sys.executable,
        str(script),
        str(run_dir),
        str(log),
        str(max_evals),
        str(workers),
        executor,
    ]
    rng = random.Random(1)
    for _ in range(kills):
        proc = subprocess.Popen(args, start_new_session=True)
        time.sleep(rng.uniform(0.8, 2.0))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    subprocess.run(args, check=True, timeout=120)
    result = hh.load(run_dir)
    assert result.n_counted == max_evals
    assert result.count("done") == max_evals
    evaluated = Counter(int(x) for x in log.read_text().split())
    done_ids = [t.id for t in result.records if t.status == hh.TrialStatus.DONE]
    assert len(set(done_ids)) == len(done_ids)
    # no trial evaluated twice: a trial that was running at the kill is re-run under a new id
    assert max(evaluated.values()) == 1
    # every finished trial really ran
    assert set(done_ids) <= set(evaluated)
    for t in result.records:
        if t.status == hh.TrialStatus.LOST:
            assert "driver stopped" in t.reason
            assert sum(1 for r in result.records if r.retry_of == t.id) == 1
    rows = (run_dir / "results.csv").read_text().splitlines()
    assert len(rows) == len(result.records) + 1
    json.loads((run_dir / "run.json").read_text())


def test_sigkill_serial_driver_resumes_exactly(tmp_path):
    _drive(tmp_path, "serial", 1, 60, kills=4)


def test_sigkill_process_driver_resumes_exactly(tmp_path):
    _drive(tmp_path, "process", 4, 80, kills=3)


def test_sigterm_stops_cleanly_and_resumes(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    run_dir, log = tmp_path / "run", tmp_path / "evals.log"
    args = [sys.executable, str(script), str(run_dir), str(log), "200", "2", "process"]
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if (run_dir / "run.json").exists() and hh.load(run_dir).n_counted >= 10:
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    partial = hh.load(run_dir)
    assert 0 < partial.n_counted < 200
    assert partial.count("running") == 0
    assert all(
        "SIGTERM" in t.reason for t in partial.records if t.status == hh.TrialStatus.CANCELLED
    )
    subprocess.run(args, check=True, timeout=120)
    assert hh.load(run_dir).n_counted == 200
