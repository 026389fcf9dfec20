"""The Ray executor on a local Ray (8 CPUs, 2 fake GPUs, a small object store)."""

from __future__ import annotations

import sys

import pytest
from dist_helpers import (
    Sink,
    check_controls,
    check_lost_and_retried,
    check_search,
    kill_when_marked,
    make_objective,
)

import hyperhive as hh
from hyperhive.executors import TrialTask, get_executor
from hyperhive.trial import TrialStatus

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

SPACE = hh.Space({"x": hh.Float(-1.0, 1.0)})


def test_by_name_and_lazy_class():
    ex = get_executor("ray", 4)
    assert isinstance(ex, hh.executors.Ray) and ex.requested_workers == 4
    assert ex.cpus_per_trial == 1 and ex.gpus_per_trial == 0
    with pytest.raises(ValueError):
        hh.executors.Ray(cpus_per_trial=-1)


def test_search_exact_budget(ray_cluster):
    executor = hh.executors.Ray()
    result = hh.search(
        make_objective(), SPACE, executor=executor, max_evals=40, optimizer="random", seed=0
    )
    assert executor.workers == 8
    check_search(result, 40, lambda w: w.startswith("ray-"))


def test_worker_killed_mid_trial(ray_cluster, tmp_path):
    marker = tmp_path / "killed"
    killer = kill_when_marked(marker)
    result = hh.search(
        make_objective(str(marker)),
        SPACE,
        executor=hh.executors.Ray(),
        max_evals=16,
        max_retries=1,
        optimizer="random",
        seed=1,
    )
    killer.join(5)
    check_lost_and_retried(result, 16)
    lost = next(t for t in result.records if t.status == TrialStatus.LOST)
    assert "died" in lost.reason


def test_timeouts_cancel_and_stop(ray_cluster):
    sink = Sink()
    ex = hh.executors.Ray(grace_period=0.5)
    ex.start(make_objective(), sink)
    try:
        check_controls(ex, sink)
    finally:
        ex.shutdown(wait=False)


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in-worker", "child-process"])
def test_gpu_placement(ray_cluster, timeout):
    """Ray gives each trial one of the 2 declared GPUs; the trial sees only it."""
    ex = hh.executors.Ray(gpus_per_trial=1, cpus_per_trial=0.5, task_options={"max_calls": 0})
    ex.start(make_objective(), Sink())
    try:
        assert ex.workers == 2
        tasks = [TrialTask(i, {"x": 0.5, "sleep": 0.5}, timeout=timeout) for i in range(4)]
        futs = [ex.submit(t) for t in tasks]
        outs = [f.result(timeout=60) for f in futs]
    finally:
        ex.shutdown(wait=False)
    assert all(o.status == TrialStatus.DONE for o in outs), outs
    assert {o.metadata["cuda"] for o in outs} == {"0", "1"}
