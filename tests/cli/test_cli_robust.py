"""The command line and the issue's faults: a worker that dies in every trial, and a
second driver on the same run directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import hyperhive as hh
from hyperhive.storage import RunDir

CRASHING = textwrap.dedent(
    """
    import os
    import hyperhive as hh

    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    executor = "process"
    workers = 2

    def objective(config):
        os._exit(3)
    """
)

SLOW = textwrap.dedent(
    """
    import time
    import hyperhive as hh

    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    executor = "thread"
    optimizer = "random"
    workers = 2

    def objective(config):
        time.sleep(0.05)
        return config["x"]
    """
)


def test_a_worker_dying_in_every_trial_ends_at_max_failures(cli, tmp_path: Path) -> None:
    """The issue's reproduction: `--max-evals 4 --max-failures 2` without a timeout used to
    run forever, losing trials."""
    path = tmp_path / "crash.py"
    path.write_text(CRASHING)
    run_dir = tmp_path / "run"
    res = cli("run", path, "--max-evals", 4, "--max-failures", 2, "--run-dir", run_dir,
              "--no-progress")  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "max_failures=2 reached" in res.stdout
    assert "No trial succeeded" in res.stderr and "exited with code 3" in res.stderr
    result = hh.load(run_dir)
    assert result.count("failed") == 2 and result.count("lost") <= 4  # max_retries=1


def test_run_on_a_held_run_dir_exits_2_with_one_line(cli, problem_file, tmp_path) -> None:
    run_dir = tmp_path / "run"
    assert cli("run", problem_file, "-n", 3, "-e", "serial", "-r", run_dir,
               "--no-progress").exit_code == 0  # fmt: skip
    held = RunDir(run_dir).driver_lock()
    held.acquire()
    try:
        res = cli("run", problem_file, "-n", 6, "-e", "serial", "-r", run_dir, "--no-progress")
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pid {os.getpid()} on host" in lines[0]
        assert "Traceback" not in res.output
        # readers work while a driver holds the run
        assert cli("status", run_dir).exit_code == 0
        trials = cli("trials", run_dir, "--csv")
        assert trials.exit_code == 0 and len(trials.stdout.strip().splitlines()) == 4
    finally:
        held.release()
    assert hh.load(run_dir).n_counted == 3


def test_two_runs_started_together_count_max_evals_once(tmp_path: Path) -> None:
    """The issue's reproduction: two `hyperhive run` on one run directory counted 300
    trials for max_evals=150."""
    path, run_dir = tmp_path / "slow.py", tmp_path / "run"
    path.write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "NO_COLOR": "1"}
    cmd = [sys.executable, "-c", "from hyperhive.cli.main import app; app()", "run", str(path),
           "--max-evals", "40", "--run-dir", str(run_dir), "--no-progress"]  # fmt: skip
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    refused = outs[[p.returncode for p in procs].index(2)][1]
    assert "already driven by pid" in refused and "Traceback" not in refused
    result = hh.load(run_dir)
    assert result.n_counted == 40 and result.count("lost") == 0
