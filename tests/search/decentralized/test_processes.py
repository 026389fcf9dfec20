"""Decentralized search with peer processes: Redis with a SIGKILLed peer, SQLite, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import hyperhive as hh
from hyperhive.storage import open_store

PEER = textwrap.dedent(
    """
    import os, sys, time
    import hyperhive as hh

    log, run_dir, store, max_evals = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    slow = float(os.environ.get("SLOW", "0"))

    def objective(config):
        trial = hh.current_trial()
        with open(log, "a") as f:
            f.write(f"start {os.getpid()} {trial.id}\\n")
        time.sleep(slow or 0.15)
        with open(log, "a") as f:
            f.write(f"end {os.getpid()} {trial.id}\\n")
        return (config["x"] - 0.3) ** 2

    space = hh.Space({"x": hh.Float(0.0, 1.0)})
    if __name__ == "__main__":
        result = hh.worker(
            objective, space, store=None if store == "-" else store, run_dir=run_dir,
            max_evals=max_evals, optimizer="random", lease=float(os.environ.get("LEASE", "10")),
            poll=0.1, grace=float(os.environ.get("GRACE", "10")),
            executor=os.environ.get("EXECUTOR", "auto"),
        )
        print("exit", os.getpid(), result.stop_reason, flush=True)
    """
)


def _start(tmp_path: Path, run_dir: Path, store: str, max_evals: int, **env: str):
    script = tmp_path / "peer.py"
    if not script.exists():
        script.write_text(PEER)
    args = [sys.executable, str(script), str(tmp_path / "evals.log"), str(run_dir), store]
    return subprocess.Popen(
        [*args, str(max_evals)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )


def _log(tmp_path: Path) -> list[tuple[str, int, int]]:
    path = tmp_path / "evals.log"
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines()]
    return [(kind, int(pid), int(tid)) for kind, pid, tid in rows]


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _finish(procs, timeout: float = 120.0) -> None:
    for p in procs:
        out, _ = p.communicate(timeout=timeout)
        assert p.returncode == 0, out
        assert "max_evals reached" in out


def test_four_redis_peers_one_sigkilled_mid_trial(tmp_path, redis_server):
    url = f"{redis_server.url}?run=killed"
    max_evals = 40
    victim = _start(tmp_path, tmp_path / "run", url, max_evals, SLOW="60", LEASE="1.5")
    _wait_for(lambda: any(pid == victim.pid for _, pid, _ in _log(tmp_path)))
    peers = [_start(tmp_path, tmp_path / "run", url, max_evals) for _ in range(3)]
    _wait_for(lambda: sum(k == "end" for k, _, _ in _log(tmp_path)) >= 3)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    (killed,) = [tid for _, pid, tid in _log(tmp_path) if pid == victim.pid]
    _finish(peers)
    trials = open_store(url).trials()
    counted = [t for t in trials.values() if t.counted]
    assert len(counted) == max_evals
    assert trials[killed].status == hh.TrialStatus.LOST and "expired" in trials[killed].reason
    (rerun,) = [t for t in trials.values() if t.retry_of == killed]
    assert rerun.status == hh.TrialStatus.DONE and rerun.config == trials[killed].config
    assert rerun.peer != trials[killed].peer and rerun.attempt == 1
    ended = Counter(tid for kind, _, tid in _log(tmp_path) if kind == "end")
    assert max(ended.values()) == 1  # nothing ran twice, except the killed trial's retry
    assert {t.id for t in counted} == set(ended)
    assert len({t.peer for t in counted}) == 3 and all(t.host for t in counted)


def test_sqlite_peers_share_a_run_dir(tmp_path):
    run_dir, max_evals = tmp_path / "run", 30
    procs = [_start(tmp_path, run_dir, "-", max_evals) for _ in range(3)]
    _finish(procs)
    result = hh.load(run_dir)
    assert result.n_counted == max_evals == len(result.records)
    assert len(set(result.trials["peer"])) >= 2
    # every peer's optimizer has its own seed: no configuration is proposed twice
    assert len({t.config["x"] for t in result.records}) == max_evals
    ended = Counter(tid for kind, _, tid in _log(tmp_path) if kind == "end")
    assert max(ended.values()) == 1 and set(ended) == {t.id for t in result.records}


def test_sigterm_releases_the_trial_and_the_run_resumes(tmp_path):
    run_dir, max_evals = tmp_path / "run", 6
    first = _start(tmp_path, run_dir, "-", max_evals, SLOW="60", GRACE="0.2", EXECUTOR="process")
    _wait_for(lambda: len(_log(tmp_path)) >= 1)
    first.send_signal(signal.SIGTERM)
    out, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and "interrupted (SIGTERM)" in out
    ((_, _, released),) = _log(tmp_path)
    trial = hh.load(run_dir).records[0]
    assert trial.id == released and trial.status == hh.TrialStatus.LOST
    assert "released" in trial.reason
    _finish([_start(tmp_path, run_dir, "-", max_evals)])
    result = hh.load(run_dir)
    assert result.n_counted == max_evals
    (rerun,) = [t for t in result.records if t.retry_of == released]
    assert rerun.status == hh.TrialStatus.DONE
